"""Questions -> keyword groups: English questions for Vietnamese articles, and the other way."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import fold, nfc
from .english import EN_STOPWORDS
from .table import Lexicon
from .vietnamese import normalize_vi, spelling_variants


@dataclass(frozen=True)
class Group:
    """One question word or phrase and the strings that stand for it in the other language.

    Attributes
    ----------
    source : str
        The word or phrase as written in the question.
    alternatives : tuple of str
        Lowercase; the word itself for kept tokens (names, acronyms,
        numbers, words without an entry), else its translations.
    """

    source: str
    alternatives: tuple[str, ...]


_EN_TOKEN = re.compile(
    r"(?:[A-Za-z]\.){2,}"                       # U.S. / e.g.
    r"|\d+(?:[.,:/]\d+)*%?"                     # 2022, 78.44, 1,000
    r"|[^\W_]+(?:[-'’][^\W_]+)*",               # words, co-operation, Vietnam's
)
_SENTENCE_END = re.compile(r"[.!?:;\n]")


def _tokens(text: str, pattern: re.Pattern) -> list[tuple[str, bool]]:
    """(token, at sentence start) pairs."""
    out = []
    previous_end = 0
    for i, m in enumerate(pattern.finditer(text)):
        start = i == 0 or bool(_SENTENCE_END.search(text[previous_end:m.start()]))
        out.append((m.group(), start))
        previous_end = m.end()
    return out


def _strip_possessive(token: str) -> str:
    return re.sub(r"['’]s?$", "", token) if re.search(r"\w['’]s?$", token) else token


def _is_acronym(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    return len(token) >= 2 and bool(letters) and all(c.isupper() for c in letters)


def _with_variants(vietnamese: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for vi in vietnamese:
        out += [v for v in spelling_variants(vi) if v not in out]
    return tuple(out)


def translate_english(text: str, lexicon: Lexicon) -> list[Group]:
    """Keyword groups of an English question, for matching Vietnamese articles.

    Numbers and acronyms are kept as themselves; names (capitalised words
    not at a sentence start, or capitalised words without an entry) are kept
    as themselves, followed by the translations of the exact name when the
    lexicon has one ("Vietnam" -> "vietnam", "việt nam"). Stopwords and
    question words are dropped. Other words are translated: English entries
    of three, then two words first (greedy, longest match), then single words
    through :func:`lemmas`; a word without an entry keeps itself.
    Vietnamese alternatives come in both tone spellings ("hóa", "hoá").

    Parameters
    ----------
    text : str
        The question.
    lexicon : Lexicon

    Returns
    -------
    list of Group
        In question order.
    """
    tokens = _tokens(nfc(text), _EN_TOKEN)
    groups: list[Group] = []
    i = 0
    while i < len(tokens):
        token, start = tokens[i]
        word = _strip_possessive(token)
        lower = word.lower().replace("’", "'")
        if any(c.isdigit() for c in word) or _is_acronym(word):
            groups.append(Group(word, (lower.replace(".", "") if _is_acronym(word) else lower,)))
            i += 1
            continue
        if lower in EN_STOPWORDS or len(lower) < 2:
            i += 1
            continue
        matched = False
        for n in (3, 2):
            span = [_strip_possessive(t) for t, _ in tokens[i:i + n]]
            if len(span) < n or any(any(c.isdigit() for c in t) or _is_acronym(t) for t in span):
                continue
            if span[-1].lower() in EN_STOPWORDS:
                continue
            found = lexicon.en_to_vi(" ".join(span))
            if found:
                groups.append(Group(" ".join(span), _with_variants(found)))
                i += n
                matched = True
                break
        if matched:
            continue
        translations = lexicon.en_to_vi(lower)
        if word[:1].isupper() and (not start or not translations):
            exact = lexicon.en_to_vi(lower, lemmatize=False)
            groups.append(Group(word, tuple(dict.fromkeys((lower, *_with_variants(exact))))))
        elif translations:
            groups.append(Group(word, _with_variants(translations)))
        else:
            groups.append(Group(word, (lower,)))
        i += 1
    return groups


# Vietnamese function syllables and question words (dropped when they start no entry).
VI_STOP_SYLLABLES = frozenset(normalize_vi(w) for w in """
gì nào ai đâu sao mấy là của và các những một được có không đã đang sẽ thì mà này kia đó ấy
với cho trong về từ tại ở khi lúc bị do bởi vì theo nhưng như thế hay hoặc nếu cũng vẫn rất
nhiều ít để nên hơn nhất đều chỉ còn lại ra vào đến tới bằng qua sau trước hãy xin vậy
chứ nhỉ nhé à ạ ư hả hở ông bà anh chị em họ nó chúng ta tôi mình cái chiếc
""".split())
VI_STOP_PHRASES = frozenset(normalize_vi(p) for p in (
    "bao nhiêu", "bao giờ", "khi nào", "lúc nào", "ở đâu", "tại sao", "vì sao", "như thế nào",
    "thế nào", "ra sao", "là gì", "là ai", "cái gì", "điều gì", "việc gì", "người nào",
    "có phải", "hay không", "có không", "được không", "bao lâu", "mấy giờ",
    "những gì", "chúng ta", "chúng tôi", "của họ",
))
# Unaccented input ("hop tac quoc te ve an ninh mang") is compared folded.
_VI_STOP_FOLDED = frozenset(fold(w) for w in VI_STOP_SYLLABLES)
_VI_STOP_PHRASES_FOLDED = frozenset(fold(p) for p in VI_STOP_PHRASES)
_VI_TOKEN = re.compile(r"\d+(?:[.,:/]\d+)*%?|[^\W_]+")


def _vi_kept(token: str) -> bool:
    """Numbers and acronyms ("2022", "ASEAN", "AMCC7") stand for themselves."""
    return any(c.isdigit() for c in token) or _is_acronym(token)


def _vi_stop(text: str, phrase: bool) -> bool:
    key = normalize_vi(text)
    if fold(key) == key:  # typed without diacritics
        return key in (_VI_STOP_PHRASES_FOLDED if phrase else _VI_STOP_FOLDED)
    return key in (VI_STOP_PHRASES if phrase else VI_STOP_SYLLABLES)


def _vi_entry_at(words: list[str], j: int, lexicon: Lexicon, longest: int) -> tuple[int, list[str]]:
    """Longest entry of 2..``longest`` syllables starting at ``words[j]``: (length, English)."""
    for n in range(min(longest, len(words) - j), 1, -1):
        span = words[j:j + n]
        if any(_vi_kept(w) for w in span):
            continue
        found = lexicon.vi_to_en(" ".join(span))
        if found:
            return n, found
    return 0, []


def translate_vietnamese(text: str, lexicon: Lexicon) -> list[Group]:
    """Keyword groups of a Vietnamese question, for matching English articles.

    Greedy longest match of up to four syllables against the reverse index
    (:meth:`Lexicon.vi_to_en`, which also accepts unaccented input).
    Question words and function syllables are dropped; numbers and acronyms
    are kept as themselves. Runs of capitalised syllables that are not at a
    sentence start, and capitalised syllables without an entry, are names:
    kept as themselves in both the accented and the folded spelling
    ("tô lâm", "to lam"), followed by any translation of the whole run
    ("Việt Nam" -> "vietnam"). Other syllables without an entry keep
    themselves.

    Parameters
    ----------
    text : str
        The question.
    lexicon : Lexicon

    Returns
    -------
    list of Group
        In question order; alternatives are lowercase (English for translated words).
    """
    tokens = _tokens(nfc(text), _VI_TOKEN)
    words = [t for t, _ in tokens]
    capitalised = [t[:1].isupper() and not _vi_kept(t) for t in words]
    longest = max(1, min(4, lexicon.max_vi_syllables))
    groups: list[Group] = []
    i = 0
    while i < len(tokens):
        token, start = tokens[i]
        lower = normalize_vi(token)
        if _vi_kept(token):
            groups.append(Group(token, (lower,)))
            i += 1
            continue
        stop = next((n for n in (4, 3, 2) if i + n <= len(words)
                     and not any(_vi_kept(w) for w in words[i:i + n])
                     and _vi_stop(" ".join(words[i:i + n]), phrase=True)), 0)
        if stop:
            i += stop
            continue
        n, found = _vi_entry_at(words, i, lexicon, longest)
        if n:
            source = " ".join(words[i:i + n])
            if all(capitalised[i:i + n]) and not start:  # a name with a translation
                name = normalize_vi(source)
                found = list(dict.fromkeys([name, fold(name), *found]))
            groups.append(Group(source, tuple(found)))
            i += n
            continue
        single = lexicon.vi_to_en(token)
        if capitalised[i] and not (start and (single or _vi_stop(token, phrase=False))):
            run = 1  # the name ends where a lower-case word or a known entry starts
            while (i + run < len(words) and capitalised[i + run]
                   and not _vi_entry_at(words, i + run, lexicon, longest)[0]):
                run += 1
            source = " ".join(words[i:i + run])
            name = normalize_vi(source)
            translations = lexicon.vi_to_en(source) if run > 1 else single
            groups.append(Group(source, tuple(dict.fromkeys([name, fold(name), *translations]))))
            i += run
            continue
        if not _vi_stop(token, phrase=False):
            groups.append(Group(token, tuple(single) if single else (lower,)))
        i += 1
    return groups
