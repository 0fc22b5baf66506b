"""What the keyword side looks for: word groups, each scored by its best alternative.

A Vietnamese question over Vietnamese articles is one group: its own text, as
typed (BM25 on every word, exact and diacritic-folded). An English question is
translated word by word through the bilingual lexicon: "law" becomes the group
{luật, pháp luật, ...}, names and numbers stay themselves, and a document scores
by the best alternative of each group rather than by the sum of all of them
(a structured query), so a word with eight translations does not count eight
times. English articles add the English words themselves; a Vietnamese question
over English articles is translated the other way.

The same groups drive the sentence coverage score in ``extract.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .config import Config
from .question import Question
from .text import fold, keyword_tokens, words


@dataclass(frozen=True)
class Term:
    text: str
    language: str  # "vi" | "en": which tokenisation applies
    exact: bool = False  # match with its diacritics (lexicon translations are spelled right; users may not be)

    def tokens(self) -> list[str]:
        return keyword_tokens(self.text, self.language)

    def words(self) -> list[str]:
        """Its words as the retriever's sentence word sets hold them: folded, or exact."""
        return words(self.text) if self.exact else [fold(w) for w in words(self.text)]


@dataclass(frozen=True)
class Group:
    source: str  # the question word or phrase
    alternatives: tuple[Term, ...]


@dataclass(frozen=True)
class KeywordQuery:
    groups: tuple[Group, ...]

    @classmethod
    def plain(cls, text: str, language: str = "vi") -> "KeywordQuery":
        """One group, one alternative: BM25 on ``text`` as a whole."""
        return cls((Group(text, (Term(text, language),)),))


def _dedupe(terms: list[Term]) -> tuple[Term, ...]:
    seen, out = set(), []
    for t in terms:
        key = (t.text.lower(), t.language)
        if t.text.strip() and key not in seen:
            seen.add(key)
            out.append(t)
    return tuple(out)


def _lexicon():
    from .lexicon import Lexicon

    return Lexicon.load()


def _english_groups(question: Question, with_english: bool) -> list[Group]:
    return list(_translated_english(question.text, with_english))


@lru_cache(maxsize=256)
def _translated_english(text: str, with_english: bool) -> tuple[Group, ...]:
    """Cached: the keyword query and the coverage score translate the same question."""
    from .lexicon import translate_english

    groups = []
    for g in translate_english(text, _lexicon()):
        terms = [Term(a, "vi", exact=True) for a in g.alternatives]
        if with_english:
            terms.insert(0, Term(g.source, "en"))
        groups.append(Group(g.source, _dedupe(terms)))
    return tuple(groups)


def _vietnamese_groups(question: Question) -> list[Group]:
    return list(_translated_vietnamese(question.text))


@lru_cache(maxsize=256)
def _translated_vietnamese(text: str) -> tuple[Group, ...]:
    from .lexicon import translate_vietnamese

    return tuple(Group(g.source, _dedupe([Term(g.source, "vi")] + [Term(a, "en") for a in g.alternatives]))
                 for g in translate_vietnamese(text, _lexicon()))


def content_groups(text: str, language: str, stopwords: frozenset[str] | set[str]) -> list[Group]:
    """One group per content word (folded, not a stopword, longer than one letter)."""
    seen = dict.fromkeys(w for w in (fold(t) for t in words(text)) if w not in stopwords and len(w) > 1)
    return [Group(w, (Term(w, language),)) for w in seen]


def keyword_query(question: Question, languages: frozenset[str], config: Config) -> KeywordQuery:
    """The BM25 query for ``question`` over a corpus whose articles are in ``languages``."""
    has_en, has_vi = "en" in languages, "vi" in languages or not languages
    if question.language == "vi":
        groups = [Group(question.text, (Term(question.text, "vi"),))] if has_vi else []
        if has_en and config.lexicon_keyword:
            groups += _vietnamese_groups(question)
        elif has_en:
            groups.append(Group(question.text, (Term(question.text, "en"),)))
        return KeywordQuery(tuple(groups))
    if config.lexicon_keyword and has_vi:
        return KeywordQuery(tuple(_english_groups(question, with_english=has_en)))
    # Without translation only names, acronyms and numbers can match Vietnamese text.
    groups = [Group(question.keywords, (Term(question.keywords, "vi"),))] if has_vi else []
    if has_en:
        groups.append(Group(question.text, (Term(question.text, "en"),)))
    return KeywordQuery(tuple(groups))


def coverage_groups(question: Question, languages: frozenset[str], config: Config,
                    stopwords: frozenset[str] | set[str]) -> list[Group]:
    """The groups whose presence in a sentence the coverage score counts."""
    has_en, has_vi = "en" in languages, "vi" in languages or not languages
    if question.language == "vi":
        if has_en and config.lexicon_coverage:
            return _vietnamese_groups(question)
        return content_groups(question.text, "vi", stopwords)
    if config.lexicon_coverage and has_vi:
        return _english_groups(question, with_english=has_en)
    # English words never occur in Vietnamese articles: only names and numbers can match.
    return content_groups(question.text if has_en else question.keywords, "en" if has_en else "vi", stopwords)
