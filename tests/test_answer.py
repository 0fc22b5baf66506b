"""End to end with the real model, the real corpus and a real FAISS index."""
import pytest

from checks import assert_verbatim
from index import answer


def _check_citations(engine, ans):
    assert_verbatim(engine.generation.articles, ans.to_dict())


def _first(ans):
    assert not ans.abstained, ans.to_dict()
    return ans.to_dict()["citations"][0]


def test_vietnamese_question(engine):
    ans = answer(engine, "Việt Nam có bao nhiêu người sử dụng internet?")
    cite = _first(ans)
    assert ans.language == "vi" and cite["source"] == "004_11babb57b19a238d.txt"
    assert "78,44 triệu" in cite["quote"] and cite["date"] == "2024-12-09"
    text = engine.generation.articles[cite["source"]].text
    assert text[cite["highlight"]["start"]:cite["highlight"]["end"]].startswith("78,44 triệu")
    assert ans.message.startswith("Trích nguyên văn")
    _check_citations(engine, ans)


@pytest.mark.parametrize("question, source, expected", [
    ("How many internet users did Vietnam have at the start of 2024?", "004_11babb57b19a238d.txt", "78,44 triệu"),
    ("Which minister led Vietnam's delegation at SICW 2022?", "003_8bcb076a6ad5250c.txt", "Tô Lâm"),
])
def test_english_question_finds_vietnamese_quote(engine, question, source, expected):
    ans = answer(engine, question)
    cite = _first(ans)
    assert ans.language == "en" and cite["source"] == source
    assert expected in cite["quote"] and ans.message.startswith("Quoted verbatim")
    _check_citations(engine, ans)


def test_unaccented_question(engine):
    ans = answer(engine, "so nguoi dung internet o viet nam dau nam 2024 la bao nhieu")
    cite = _first(ans)
    assert ans.language == "vi" and cite["source"] == "004_11babb57b19a238d.txt"
    assert "78,44 triệu" in cite["quote"]
    _check_citations(engine, ans)


@pytest.mark.parametrize("question, language", [
    ("How do I bake sourdough bread at home?", "en"),
    ("Công thức nấu phở bò ngon nhất là gì?", "vi"),
])
def test_out_of_corpus_abstains_in_the_question_language(engine, question, language):
    ans = answer(engine, question)
    assert ans.abstained and not ans.quotes and ans.language == language
    assert ans.message == {"vi": "Không tìm thấy câu trả lời trong các bài viết.",
                           "en": "I could not find this in the articles."}[language]
    assert ans.passages  # the closest passages are still reported


@pytest.mark.parametrize("question, code", [
    ("", "empty"), ("   \n\t ", "empty"), ("x" * 2001, "too_long"), ("hỏi\x00gì", "control_chars"),
    ("bad \ud800 surrogate", "invalid_text"), ("???!!!", "no_words"), ("网络安全合作是什么", "unsupported_language"),
    (None, "empty"),
])
def test_bad_input_gets_a_message_not_an_exception(engine, question, code):
    ans = answer(engine, question)
    assert ans.error == code and ans.abstained and ans.message
    assert ans.to_dict()["error"] == code


def test_answer_json_contract(engine):
    d = answer(engine, "Hội thảo CLMV lần thứ hai khai mạc ngày nào?", id="q1").to_dict()
    assert list(d)[:7] == ["id", "question", "language", "abstained", "answer", "message", "citations"]
    assert set(d["timings_ms"]) == {"embed", "search", "extract", "total"}
    assert d["answer"] == d["citations"][0]["quote"] and d["confidence"] == "high"
    for c in d["citations"]:
        assert set(c) >= {"n", "source", "title", "date", "quote", "start", "end", "score", "probability"}
    for p in d["passages"]:
        assert set(p) == {"source", "chunk_id", "start", "end", "score"}


def test_reply_language_can_be_forced(engine):
    ans = answer(engine, "Việt Nam có bao nhiêu người sử dụng internet?", language="en")
    assert ans.language == "en" and ans.message.startswith("Quoted verbatim")
    assert answer(engine, "", language="vi").message == "Vui lòng nhập câu hỏi."


def test_rejected_question_echo_is_short_and_serialisable(engine):
    import json

    d = answer(engine, "\ud800" + "x" * 5000).to_dict()
    assert d["error"] == "invalid_text" and len(d["question"]) <= 200
    json.dumps(d, ensure_ascii=False).encode("utf-8")


def test_english_question_reaches_the_right_workshop_through_the_lexicon(engine):
    """'held in Hanoi' must beat the 2016 Vientiane sentence: 'Hanoi' -> 'Hà Nội', 'workshop' -> 'hội thảo'."""
    cite = _first(answer(engine, "When was the CLMV workshop held in Hanoi?"))
    assert "12 - 13/10/2017" in cite["quote"] and "Hà Nội" in cite["quote"], cite
    assert "Vientiane" not in cite["quote"]


def test_who_signed_is_the_subject(engine):
    cite = _first(answer(engine, "Ai ký biên bản ghi nhớ với CISA?"))
    text = engine.generation.articles[cite["source"]].text
    assert text[cite["highlight"]["start"]:cite["highlight"]["end"]] == "Cục An toàn thông tin (AIS)"
