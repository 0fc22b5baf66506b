"""Question parsing and the answer-type highlight, on fixed strings (no model)."""
from __future__ import annotations

import pytest

from index.extract import content_words, coverage, highlight
from index.question import BadQuestion, detect_language, keyword_query, parse, question_kind


@pytest.mark.parametrize("text, language", [
    ("Việt Nam có bao nhiêu người sử dụng internet?", "vi"),
    ("so nguoi dung internet o viet nam dau nam 2024", "vi"),
    ("Who is Tô Lâm?", "en"),
    ("When was the CLMV workshop held in Hanoi?", "en"),
])
def test_language(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("text, kind", [
    ("Hội nghị diễn ra khi nào?", "when"),
    ("bao nhieu nguoi dung internet", "how_many"),
    ("Ai dẫn đầu đoàn?", "who"),
    ("Where was it held?", "where"),
    ("Hợp tác quốc tế về an ninh mạng là gì?", None),
])
def test_kind(text, kind):
    assert question_kind(text) == kind


@pytest.mark.parametrize("raw, code", [("", "empty"), ("  \n", "empty"), ("a\x00b", "control_chars"),
                                       ("x" * 2001, "too_long"), ("???", "no_words"),
                                       ("越南有多少互联网用户", "unsupported_language")])
def test_parse_rejects(raw, code):
    with pytest.raises(BadQuestion) as err:
        parse(raw)
    assert err.value.code == code


def test_parse_normalises_whitespace_and_nfc():
    q = parse("  Vie\u0302\u0323t   Nam?  ")
    assert q.text == "Việt Nam?"


def test_english_keyword_query_keeps_names_and_numbers():
    assert keyword_query("Which minister led Vietnam's delegation at SICW 2022?", "en") == "Vietnam SICW 2022"


def _q(text):
    return parse(text)


def test_highlight_when_prefers_the_day_the_question_does_not_state():
    text = "Tại SICW 2022, ngày 20/10/2022, Hội nghị AMCC7 đã khai mạc."
    span = highlight(text, _q("Hội nghị AMCC7 tại SICW 2022 khai mạc khi nào?"))
    assert text[span[0]:span[1]] == "ngày 20/10/2022"


def test_highlight_how_many_skips_years():
    text = "Tính đến đầu năm 2024, có 78,44 triệu người sử dụng internet."
    span = highlight(text, _q("Có bao nhiêu người sử dụng internet?"))
    assert text[span[0]:span[1]].startswith("78,44 triệu")


def test_highlight_who_skips_titles_and_names_in_the_question():
    text = "Đại sứ Nguyễn Văn Bình đã gặp Bộ trưởng Lê Minh Hoà tại Hà Nội."
    span = highlight(text, _q("Nguyễn Văn Bình đã gặp ai?"))
    assert text[span[0]:span[1]] == "Lê Minh Hoà"


def test_coverage_weighs_rare_words_most():
    q = content_words("hợp tác an ninh mạng Zebrafin")
    idf = {"hop": 0.1, "tac": 0.1, "an": 0.1, "ninh": 0.1, "mang": 0.1}
    common = coverage(q, {"hop", "tac", "an", "ninh", "mang"}, idf, unseen_idf=5.0)
    rare = coverage(q, {"zebrafin"}, idf, unseen_idf=5.0)
    assert rare > common > 0
