"""Question parsing and the answer-type highlight, on fixed strings (no model)."""
from __future__ import annotations

import pytest

from index.extract import CoverageQuery
from index.highlight import highlight
from index.query import Group, Term, content_groups
from index.question import STOPWORDS, BadQuestion, detect_language, keyword_query, parse, question_kind


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
    groups = content_groups("hợp tác an ninh mạng Zebrafin", "vi", STOPWORDS)
    idf = {"hop": 0.1, "tac": 0.1, "an": 0.1, "ninh": 0.1, "mang": 0.1}
    wanted = CoverageQuery.of(groups, idf, unseen_idf=5.0)
    common = wanted.share({"hop", "tac", "an", "ninh", "mang"})
    rare = wanted.share({"zebrafin"})
    assert rare > common > 0


def test_coverage_counts_a_group_once_by_any_alternative():
    """'law' is present through either translation; a multi-word alternative needs all its words."""
    groups = [Group("law", (Term("luật", "vi"), Term("pháp luật", "vi"))),
              Group("minister", (Term("bộ trưởng", "vi"),))]
    wanted = CoverageQuery.of(groups, {"luat": 1.0, "phap": 1.0, "bo": 1.0, "truong": 1.0}, unseen_idf=5.0)
    assert wanted.share({"luat"}) == 0.5
    assert wanted.share({"bo"}) == 0.0  # "bộ" alone is not "bộ trưởng"
    assert wanted.share({"luat", "bo", "truong"}) == 1.0


def test_english_words_match_through_lemmas():
    wanted = CoverageQuery.of([Group("signs", (Term("signs", "en"),))], {}, unseen_idf=1.0)
    assert wanted.share({"signed", "sign"}) == 1.0


# Regressions seen in the chat.
SICW_MEETINGS = ("Trong khuôn khổ Tuần lễ SICW2022, Bộ trưởng Tô Lâm đã có các cuộc gặp song phương bên lề "
                 "với các quan chức cấp cao phụ trách an ninh của Singapore, Hoa Kỳ và Australia.")
CISA_MOU = ("Sự kiện mới đây nhất, Cục An toàn thông tin (AIS) và Cơ quan An ninh mạng và An ninh cơ sở hạ tầng "
            "(CISA), Bộ An ninh Nội địa, Hoa Kỳ đã ký Biên bản ghi nhớ (MOU) hợp tác trong lĩnh vực an toàn "
            "thông tin mạng…")


@pytest.mark.parametrize("question", ["bo truong to lam gap ai tai singapore",
                                      "Bộ trưởng Tô Lâm gặp ai tại Singapore?",
                                      "Who did Minister To Lam meet in Singapore?"])
def test_who_never_answers_with_a_name_the_question_holds(question):
    """Not "Tô Lâm", whom the question names however it is typed, but the sentence's next name."""
    span = highlight(SICW_MEETINGS, _q(question))
    assert span is not None and SICW_MEETINGS[span[0]:span[1]] == "Hoa Kỳ"


@pytest.mark.parametrize("question", ["Ai ký biên bản ghi nhớ với CISA?",
                                      "Who signed the memorandum of understanding with CISA?"])
def test_who_did_it_is_the_subject_before_the_verb(question):
    span = highlight(CISA_MOU, _q(question))
    assert CISA_MOU[span[0]:span[1]] == "Cục An toàn thông tin (AIS)"


def test_who_is_still_found_by_a_title_cue():
    text = "Đoàn đại biểu Việt Nam do Đại tướng Tô Lâm, Ủy viên Bộ Chính trị, dẫn đầu đã tham dự SICW 2022."
    span = highlight(text, _q("Ai dẫn đầu đoàn Việt Nam tại SICW 2022?"))
    assert text[span[0]:span[1]] == "Tô Lâm"
