"""Bytes to NFC text: UTF-8, UTF-16, and the legacy Vietnamese encodings of older newsroom archives.

A file that is not UTF-8 is decoded with each legacy encoding (and the charset
an HTML page declares); the candidate whose words are most often valid
Vietnamese syllables wins. A file no candidate makes sensible is refused with
the reason, so mojibake never reaches the index.

Tables, from the published standards:
- VISCII: RFC 1456, all 256 codes; 6 control codes carry capital letters.
- TCVN3 (the "ABC" fonts): TCVN 5712:1993, codes 0xA1-0xFF as the standard assigns them
  (VN3 letters, plus the VN1 capitals and combining tone marks that share that range);
  bytes 0x80-0xA0 keep their Windows-1252 meaning (the fonts' quotes and dashes).
- VNI (the "VNI Windows" fonts of VNI Software): a base letter followed by a mark byte,
  as the VNI-Times font table assigns them; the bytes are read as Windows-1252.
- Windows-1258: Python's cp1258 codec (base letters and combining tone marks), then NFC.
"""
from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ---------------------------------------------------------------- tables

# RFC 1456: codes 0x80-0xFF, in order.
_VISCII_HIGH = (
    "ẠẮẰẶẤẦẨẬẼẸẾỀỂỄỆỐỒỔỖỘỢỚỜỞỊỎỌỈỦŨỤỲ"
    "ÕắằặấầẩậẽẹếềểễệốồổỗỠƠộờởịỰỨỪỬơớƯ"
    "ÀÁÂÃẢĂẳẵÈÉÊẺÌÍĨỳĐứÒÓÔạỷừửÙÚỹỵÝỡư"
    "àáâãảăữẫèéêẻìíĩỉđựòóôõỏọụùúũủýợỮ"
)
# RFC 1456: the six C0 control codes that VISCII gives to letters.
_VISCII_LOW = {0x02: "Ẳ", 0x05: "Ẵ", 0x06: "Ẫ", 0x14: "Ỷ", 0x19: "Ỹ", 0x1E: "Ỵ"}

# TCVN 5712:1993: codes 0xA1-0xFF, in order (0xB0-0xB4 are combining tone marks).
_TCVN3_HIGH = (
    "ĂÂÊÔƠƯĐăâêôơưđẰ\u0300\u0309\u0303\u0301\u0323àảãáạẲằẳẵắẴẮ"
    "ẦẨẪẤỀặầẩẫấậèỂẻẽéẹềểễếệìỉỄẾỒĩíịòỔ"
    "ỏõóọồổỗốộờởỡớợùỖủũúụừửữứựỳỷỹýỵỐ"
)

# VNI Windows: a vowel followed by its mark, the marks as Windows-1252 characters (lower, upper case).
_VNI_TONES = {"\u0301": ("ù", "Ù"), "\u0300": ("ø", "Ø"), "\u0309": ("û", "Û"), "\u0303": ("õ", "Õ"),
              "\u0323": ("ï", "Ï")}
# Circumflex (â ê ô) and breve (ă) fold the tone into one mark: (vowels, {tone: mark}).
_VNI_HATS = {"\u0302": ("aeo", {"": "â", "\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã",
                                "\u0323": "ä"}),
             "\u0306": ("a", {"": "ê", "\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü",
                              "\u0323": "ë"})}
# Letters of one byte: ơ, ư, đ, the toned i's and ỵ (ơ and ư take the tone marks above).
_VNI_SINGLE = {"ơ": "ô", "ư": "ö", "đ": "ñ", "í": "í", "ì": "ì", "ỉ": "æ", "ĩ": "ó", "ị": "ò", "ỵ": "î"}


def _vni_table() -> dict[str, str]:
    """Unicode letter (NFC) -> its VNI characters (as Windows-1252 text), lower and upper case."""
    table: dict[str, str] = {}

    def add(letter: str, vni: str, vni_upper: str) -> None:
        table[nfc(letter)], table[nfc(letter).upper()] = vni, vni_upper

    for letter, vni in _VNI_SINGLE.items():
        add(letter, vni, vni.upper())
    for base, vni in (("a", "a"), ("e", "e"), ("o", "o"), ("u", "u"), ("y", "y"), ("ơ", "ô"), ("ư", "ö")):
        for tone, (mark, upper_mark) in _VNI_TONES.items():
            if nfc(base + tone) not in table:  # ỵ is a single byte
                add(base + tone, vni + mark, vni.upper() + upper_mark)
    for hat, (bases, marks) in _VNI_HATS.items():
        for base in bases:
            for tone, mark in marks.items():
                add(base + hat + tone, base + mark, base.upper() + mark.upper())
    return table


VNI = _vni_table()


def _windows1252(byte: int) -> str:
    """Windows-1252, with the five bytes it leaves undefined kept as Latin-1."""
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


def _byte_table(high: dict[int, str], low: dict[int, str] | None = None) -> str:
    table = [chr(b) if b < 0x80 else _windows1252(b) for b in range(256)]
    for byte, char in {**(low or {}), **high}.items():
        table[byte] = char
    return "".join(table)


VISCII = _byte_table(dict(zip(range(0x80, 0x100), _VISCII_HIGH)), _VISCII_LOW)
TCVN3 = _byte_table(dict(zip(range(0xA1, 0x100), _TCVN3_HIGH)))
_WINDOWS_1252 = _byte_table({})
_VNI_SEQUENCES = {vni: letter for letter, vni in VNI.items()}
_VNI_PATTERN = re.compile("|".join(map(re.escape, sorted(_VNI_SEQUENCES, key=len, reverse=True))))


def _decode_bytes(table: str) -> Callable[[bytes], str]:
    mapping = dict(enumerate(table))
    return lambda raw: nfc(raw.decode("latin-1").translate(mapping))


_read_windows_1252 = _decode_bytes(_WINDOWS_1252)


def _decode_vni(raw: bytes) -> str:
    text = _read_windows_1252(raw)
    return nfc(_VNI_PATTERN.sub(lambda m: _VNI_SEQUENCES[m.group()], text))


def _decode_cp1258(raw: bytes) -> str:
    return nfc(raw.decode("cp1258"))


# Tried in this order; the first of equally good candidates wins.
LEGACY: dict[str, Callable[[bytes], str]] = {
    "Windows-1258": _decode_cp1258,
    "VNI": _decode_vni,
    "TCVN3": _decode_bytes(TCVN3),
    "VISCII": _decode_bytes(VISCII),
}

# ---------------------------------------------------------------- how Vietnamese a text is

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_INITIAL = "(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
_NUCLEI = ("iêu yêu oai oao oay oeo uây uôi uya uyê uyu ươi ươu "
           "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ uy ưa ưi ươ ưu yê "
           "a ă â e ê i o ô ơ u ư y").split()
_SYLLABLE = re.compile(f"{_INITIAL}(?:{'|'.join(_NUCLEI)})(?:ch|ng|nh|[cmnpt])?")
_WORD = re.compile(r"[^\W\d_]+")
MIN_VIETNAMESE = 0.8  # share of valid syllables among the words with non-ASCII letters
SCORED_CHARS = 200_000  # mojibake runs through a whole file: its start tells


@lru_cache(maxsize=65536)
def is_syllable(word: str) -> bool:
    """A written Vietnamese syllable: initial, vowel nucleus, final, at most one tone mark."""
    parts = unicodedata.normalize("NFD", word.lower())
    if sum(c in _TONE_MARKS for c in parts) > 1:
        return False
    untoned = nfc("".join(c for c in parts if c not in _TONE_MARKS))
    return _SYLLABLE.fullmatch(untoned) is not None


def vietnamese_score(text: str) -> tuple[float, int]:
    """(share of valid syllables, number of words) over the words with non-ASCII letters.

    Plain ASCII words read the same in every candidate encoding, so they say nothing.
    """
    marked = [w for w in _WORD.findall(text[:SCORED_CHARS]) if not w.isascii()]
    if not marked:
        return 0.0, 0
    return sum(map(is_syllable, marked)) / len(marked), len(marked)


# ---------------------------------------------------------------- decoding


# Text whose only non-ASCII bytes are Windows-1252 punctuation (curly quotes, dashes, ellipsis):
# English prose saved by an old editor. No legacy Vietnamese text is made of these bytes alone.
_WINDOWS_1252_TEXT = re.compile(rb"[\x00-\x7f\x85\x91-\x97]*")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str | None = None  # the legacy encoding it was converted from; None for UTF-8/16
    problem: str | None = None  # why it is not text; set => text is ""


def _refuse(problem: str) -> Decoded:
    return Decoded("", None, problem)


def _codec(name: str | None) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def decode(raw: bytes, declared: str | None = None) -> Decoded:
    """``raw`` as text; ``declared`` is the charset the file itself names (an HTML meta tag), if any."""
    if not raw.strip():
        return _refuse("empty file")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _checked(raw.decode("utf-16"))
        except UnicodeDecodeError:
            return _refuse("invalid UTF-16")
    if b"\x00" in raw:
        return _refuse("binary file (NUL bytes)")
    try:
        return _checked(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        bad = exc.start
    if _WINDOWS_1252_TEXT.fullmatch(raw):
        return _checked(raw.decode("cp1252"), "Windows-1252")
    candidates: dict[str, str] = {}
    codec = _codec(declared)
    if codec and codec not in ("utf-8", "utf-16"):
        try:
            candidates[declared] = nfc(raw.decode(codec))
        except UnicodeDecodeError:
            pass
    for name, legacy in LEGACY.items():
        try:
            candidates[name] = legacy(raw)
        except UnicodeDecodeError:
            continue
    scores = {name: vietnamese_score(text) for name, text in candidates.items()}
    best = max(candidates, key=lambda name: scores[name][0])  # the first of equals: dicts keep order
    if declared in candidates and not (scores[best][0] >= MIN_VIETNAMESE
                                       and scores[best][0] > scores[declared][0]):
        return _checked(candidates[declared], declared)  # a page's own charset stands unless beaten clearly
    if scores[best][0] >= MIN_VIETNAMESE:
        return _checked(candidates[best], best)
    share, words = scores[best]
    guess = (f"best guess {best}: {share:.0%} of {words} accented words are Vietnamese syllables" if words
             else "no accented words")
    return _refuse(f"not UTF-8 (invalid byte at offset {bad}) nor a Vietnamese legacy encoding "
                   f"(TCVN3, VNI, VISCII, Windows-1258; {guess}); save it as UTF-8")


def _checked(text: str, encoding: str | None = None) -> Decoded:
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > max(10, len(text) // 100):
        return _refuse("binary file (control characters)")
    return Decoded(text, encoding)
