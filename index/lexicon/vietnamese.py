"""Vietnamese spelling: one canonical tone placement, its variants, and typed-without-accents matching."""
from __future__ import annotations

import re
import unicodedata

from ..text import fold, nfc

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng
_OPEN_PAIR = re.compile(r"(?<!q)(oa|oe|uy)$")


def _place_tone(syllable: str, old_style: bool) -> str:
    """Move the tone of an open oa/oe/uy syllable: "hoá" <-> "hóa", "thuỷ" <-> "thủy"."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) != 1:
        return syllable
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    m = _OPEN_PAIR.search(base)
    if not m:
        return syllable
    at = m.start() if old_style else m.start() + 1
    return unicodedata.normalize("NFC", base[:at + 1] + tones[0] + base[at + 1:])


_SYLLABLE = re.compile(r"[^\W\d_]+")


def normalize_vi(text: str) -> str:
    """Canonical form of Vietnamese text for lookups and tables.

    NFC, lower case, whitespace collapsed, and in open ``oa``/``oe``/``uy``
    syllables the tone mark on the first vowel ("hóa", "hòa", "khỏe",
    "thủy"), the spelling most Vietnamese news sites use. Both spellings occur
    in articles, so :func:`spelling_variants` gives the other one too.

    Examples
    --------
    >>> normalize_vi("Văn  Hoá")
    'văn hóa'
    """
    text = " ".join(nfc(text).lower().split())
    return _SYLLABLE.sub(lambda m: _place_tone(m.group(), True), text)


def spelling_variants(text: str) -> list[str]:
    """``normalize_vi(text)`` and, when it differs, the other tone placement ("văn hoá")."""
    canonical = normalize_vi(text)
    other = _SYLLABLE.sub(lambda m: _place_tone(m.group(), False), canonical)
    return [canonical] if other == canonical else [canonical, other]


def compatible(query: str, candidate: str) -> bool:
    """True when ``candidate`` could be what ``query`` means with some diacritics left out.

    Every character is either equal, or an unmarked ASCII letter in the query
    that is the folded candidate character: "hop tac" fits "hợp tác", "bàn"
    does not fit "ban".
    """
    if len(query) != len(candidate):
        return False
    for q, c in zip(query, candidate):
        if q != c and not (q.isascii() and fold(c) == q):
            return False
    return True
