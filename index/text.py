"""Vietnamese-aware text handling: normalisation, diacritic folding, tokens, sentences.

Folding is length-preserving (one character in, one character out) so offsets
found in folded text are valid in the original text.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Zero-width and BOM characters carry no text; NBSP and friends are plain spaces.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u3000\t\u2002\u2003\u2009"), " ")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def normalize(text: str) -> str:
    """NFC, unified newlines and spaces, invisible characters removed."""
    text = nfc(text).replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_INVISIBLE).translate(_SPACES)


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch in "đĐ":  # a separate letter, not a combining mark: NFD leaves it alone
        return "d" if ch == "đ" else "D"
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base if len(base) == 1 else ch


def fold(text: str) -> str:
    """Remove Vietnamese diacritics (đ -> d); ``len(fold(s)) == len(s)``."""
    return "".join(map(_fold_char, text))


def has_diacritics(text: str) -> bool:
    return fold(text) != text


VIETNAMESE_MIN_MARKED = 0.05  # Vietnamese prose marks about a third of its letters; English names ~0


def text_language(text: str) -> str:
    """'vi' or 'en' for an article: Vietnamese text carries diacritics on a large share of its letters."""
    letters = [c for c in text[:20000] if c.isalpha()]
    if not letters:
        return "vi"
    marked = sum(1 for c in letters if _fold_char(c) != c)
    return "vi" if marked / len(letters) >= VIETNAMESE_MIN_MARKED else "en"


_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased word tokens (NFC)."""
    return _WORD.findall(nfc(text).lower())


def keyword_tokens(text: str, language: str = "vi") -> list[str]:
    """Tokens for the keyword index: exact words, folded words and folded bigrams.

    An accented query matches both the exact and the folded token, so exact
    matches outrank folded ones ("đường" vs "dương"); an unaccented query
    still matches through the folded tokens. English text drops its stopwords
    (they collide with Vietnamese syllables: "an", "to", "do") and adds "=" lemma
    tokens so that "signed" meets "signs".
    """
    exact = words(text)
    lemma_tokens: list[str] = []
    if language == "en":
        from .lexicon.english import EN_STOPWORDS, lemmas

        exact = [w for w in exact if w not in EN_STOPWORDS]
        lemma_tokens = ["=" + lemma for w in exact for lemma in lemmas(w)]
    folded = [fold(w) for w in exact]
    bigrams = [f"{a}_{b}" for a, b in zip(folded, folded[1:])]
    return exact + ["~" + w for w in folded] + ["~" + b for b in bigrams] + lemma_tokens


# --- sentences -------------------------------------------------------------

# Abbreviations that end with a period but do not end a sentence (compared folded, lower).
_ABBREVIATIONS = {
    "tp", "ts", "gs", "ths", "pgs", "bs", "ks", "ls", "nxb", "tt", "q", "p", "mr", "mrs",
    "ms", "dr", "st", "no", "vs", "etc", "v.v", "e.g", "i.e", "th.s", "tr", "sđd", "sdd",
}
# Sentence end: terminal punctuation (with closing quotes/brackets) followed by space.
_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` closes an abbreviation or an initial."""
    if text[dot] != ".":
        return False
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    token = fold(text[start:dot]).lower()
    if not token:
        return False
    if token in _ABBREVIATIONS:
        return True
    # A single capital letter ("Nguyễn V. A.") is an initial.
    return len(token) == 1 and text[start].isupper()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets into ``text``, whitespace trimmed.

    Lines are hard boundaries (titles and captions often lack final
    punctuation); inside a line a sentence ends at . ! ? … (plus closing
    quotes) followed by whitespace, unless the period closes an abbreviation
    or initial, or the next character is lower case (not a new sentence).
    Decimals and dates (78,44 · 390.000 · 12/10/2017) have no space after the
    period, so they never split.
    """
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        cursor = line_start
        for m in _END.finditer(text, line_start, line_end):
            end = m.end()
            nxt = re.search(r"\S", text[end:line_end])
            if nxt is None:
                break
            following = text[end + nxt.start()]
            if _is_abbreviation(text, m.start()) or following.islower():
                continue
            _add_trimmed(text, cursor, end, spans)
            cursor = end
        _add_trimmed(text, cursor, line_end, spans)
        line_start = line_end + 1
    return spans


def _add_trimmed(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(c.isalnum() for c in text[start:end]):
        out.append((start, end))


def sentence_words(text: str, language: str) -> set[str]:
    """Words of a sentence, exact and folded; English ones with their lemma candidates ("signed" -> "sign")."""
    exact = words(text)
    found = set(exact) | {fold(w) for w in exact}
    if language == "en":
        from .lexicon.english import lemmas

        found |= {lemma for w in list(found) for lemma in lemmas(w)}
    return found
