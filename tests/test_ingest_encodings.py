"""Legacy Vietnamese encodings (TCVN3, VNI, VISCII, Windows-1258) become NFC Unicode; mojibake is refused.

Samples are made here by encoding a Unicode paragraph with the module's own tables; the tables
are checked against an independent implementation of each standard where one exists: Python's
cp1258 codec, and glibc's iconv for VISCII (RFC 1456) and TCVN 5712:1993.
"""
from __future__ import annotations

import shutil
import subprocess
import unicodedata

import pytest

from index.corpus import load_corpus
from index.ingest import encodings
from index.ingest.encodings import decode, is_syllable
from legacy_samples import encode_bytes, encode_cp1258, encode_vni

# Upper-case letters only where TCVN3 (the VN3 subset the ABC fonts use) has them: Đ Ă Â Ê Ô Ơ Ư.
PARAGRAPH = ("Đà Nẵng khuyến khích người dân đi xe buýt điện\n\n"
             "Sáng 15/3, thành phố chính thức đưa vào hoạt động tuyến xe buýt điện đầu tiên nối sân bay "
             "quốc tế với bãi biển; giá vé một lượt là 8.000 đồng, học sinh được miễn phí. "
             "Ông Hùng nói: \"Chúng tôi sẽ mở thêm bốn tuyến trước cuối năm, ưu tiên khu vực ngoại thành.\" "
             "Ơn giời, Ưng Hoà đã có đường mới; Âu Cơ và Ê-đê cũng thế, Ăn uống thuận tiện hơn.")
TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
LOWER = sorted({unicodedata.normalize("NFC", v + t) for v in ("a", "a\u0306", "a\u0302", "e", "e\u0302", "i", "o",
                                                               "o\u0302", "o\u031b", "u", "u\u031b", "y")
                for t in TONES} - set("aeiouy") | {"đ"})
ALPHABET = LOWER + [c.upper() for c in LOWER]  # the 134 letters beyond ASCII


ENCODERS = {
    "TCVN3": lambda text: encode_bytes(text, encodings.TCVN3),
    "VNI": encode_vni,
    "VISCII": lambda text: encode_bytes(text, encodings.VISCII),
    "Windows-1258": encode_cp1258,
}


@pytest.mark.parametrize("name", ENCODERS)
def test_a_legacy_file_is_converted_to_the_same_article_and_reported(tmp_path, name):
    raw = ENCODERS[name](PARAGRAPH)
    assert raw != PARAGRAPH.encode() and not raw.isascii()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    (tmp_path / f"{name}.txt").write_bytes(raw)
    (tmp_path / "unicode.md").write_text("Bài gốc\n\nMột bài viết khác, lưu bằng UTF-8.", encoding="utf-8")
    articles, report = load_corpus(tmp_path)
    by_source = {a.source: a for a in articles}
    assert by_source[f"{name}.txt"].text == PARAGRAPH
    assert by_source[f"{name}.txt"].title == "Đà Nẵng khuyến khích người dân đi xe buýt điện"
    assert [(c.source, c.encoding) for c in report.converted] == [(f"{name}.txt", name)]
    assert f"{name}.txt from {name}" in report.summary()
    assert not report.skipped


@pytest.mark.parametrize("name", ["VNI", "VISCII", "Windows-1258"])
def test_every_vietnamese_letter_round_trips(name):
    text = " ".join(ALPHABET)
    assert len(ALPHABET) == 134
    decoded = decode(ENCODERS[name](text))
    assert (decoded.text, decoded.encoding) == (text, name)


def test_tcvn3_letters_round_trip():
    """TCVN3 has every lower-case letter and Đ Ă Â Ê Ô Ơ Ư (its capitals with tones were a second font)."""
    letters = LOWER + list("ĐĂÂÊÔƠƯ")
    assert encodings.LEGACY["TCVN3"](encode_bytes(" ".join(letters), encodings.TCVN3)) == " ".join(letters)


def test_windows_1258_matches_pythons_codec():
    raw = encode_cp1258(PARAGRAPH)
    assert unicodedata.normalize("NFC", raw.decode("cp1258")) == PARAGRAPH == decode(raw).text
    assert b"\xd2" in raw and b"\xf2" in raw  # combining hook above and dot below: NFC composed them


def _iconv(encoding: str, codes: range) -> list[str]:
    """What glibc's iconv makes of each byte, one per line (so it composes no combining mark)."""
    if shutil.which("iconv") is None:
        pytest.skip("iconv is not installed")
    raw = b"\n".join(bytes([b]) for b in codes)
    out = subprocess.run(["iconv", "-f", encoding, "-t", "UTF-8"], input=raw, capture_output=True, check=True)
    return out.stdout.decode("utf-8").split("\n")


def test_viscii_table_is_rfc_1456():
    codes = [b for b in range(256) if b != 0x0A]
    assert [encodings.VISCII[b] for b in codes] == _iconv("VISCII", codes)


def test_tcvn3_table_is_tcvn_5712():
    codes = range(0xA1, 0x100)
    assert [encodings.TCVN3[b] for b in codes] == _iconv("TCVN5712-1", codes)


def test_vni_table_matches_the_vni_font_chart():
    """A few entries of the VNI Windows chart, written as the Windows-1252 text a VNI document shows."""
    chart = {"Vieät Nam": "Việt Nam", "Ñaø Naüng": "Đà Nẵng", "ngöôøi": "người", "khuyeán khích": "khuyến khích",
             "Thöøa Thieân Hueá": "Thừa Thiên Huế", "ÑAØ NAÜNG": "ĐÀ NẴNG", "kyõ sö": "kỹ sư", "hoïc": "học",
             "quyeàn lôïi": "quyền lợi", "Myõ Tho": "Mỹ Tho", "ñòa lyù": "địa lý", "Æ": "Ỉ"}
    for vni, unicode in chart.items():
        assert encode_vni(unicode) == vni.encode("cp1252"), unicode
        assert encodings.LEGACY["VNI"](vni.encode("cp1252")) == unicode


@pytest.mark.parametrize("raw, why", [
    ("Café crème à la française, très élégant et déjà célèbre à Genève.".encode("latin-1"), "French in Latin-1"),
    (bytes(range(0x80, 0x100)) * 40, "high bytes"),
    ("Xin chào Việt Nam".encode("utf-8")[:-3] + b"\xff\xfe\xfd abc", "broken UTF-8"),
    ("Hà Nội hôm nay trời nắng đẹp".encode("utf-16-le"), "UTF-16 without BOM"),
])
def test_text_no_encoding_makes_vietnamese_is_refused(tmp_path, raw, why):
    (tmp_path / "x.txt").write_bytes(raw)
    articles, report = load_corpus(tmp_path)
    assert articles == [] and report.converted == [], why
    [skipped] = report.skipped
    assert skipped.reason.startswith(("not UTF-8", "binary file")), (why, skipped.reason)
    if skipped.reason.startswith("not UTF-8"):
        assert "nor a Vietnamese legacy encoding" in skipped.reason and "save it as UTF-8" in skipped.reason


def test_english_with_windows_1252_quotes_is_read():
    raw = "He said \x93the grid is ready\x94 \x97 and left.".encode("latin-1")
    decoded = decode(raw)
    assert (decoded.text, decoded.encoding) == ("He said “the grid is ready” — and left.", "Windows-1252")


def test_a_pages_declared_charset_stands_unless_a_vietnamese_encoding_reads_clearly_better():
    english = "Caf\xe9 owners in Montr\xe9al".encode("latin-1")
    assert decode(english, "iso-8859-1").text == "Café owners in Montréal"
    assert decode(english).problem  # without the declaration nothing reads it as sensible Vietnamese
    vni_in_latin1_page = encode_vni(PARAGRAPH)  # old sites declared windows-1252 and used VNI fonts
    assert decode(vni_in_latin1_page, "windows-1252").encoding == "VNI"


def test_syllables():
    for word in ["nghiêng", "người", "khuya", "quốc", "gì", "giữa", "thuở", "oẳn", "xoong", "ĐƯỜNG", "Ủy"]:
        assert is_syllable(word), word
    for word in ["Néi", "Hµ", "Vieät", "viêịt", "caféé", "ŸÖ", "ngườii", "đấù"]:
        assert not is_syllable(word), word
