"""Graded answers: up to three citations from different passages, each with its probability; low confidence."""
from __future__ import annotations

import pytest

import app
from checks import assert_verbatim
from index import answer

INTERNET = "Việt Nam có bao nhiêu người sử dụng internet?"
CLMV_WHERE = "hoi thao cho cac nuoc CLMV lan thu hai to chuc o dau"
ICRC = "Which international organisation co-hosted the webinar with the Ministry of Defence?"


def _overlap(a: dict, b: dict) -> bool:
    return a["source"] == b["source"] and a["start"] < b["end"] and b["start"] < a["end"]


def test_citations_best_first_from_different_passages(engine):
    d = answer(engine, INTERNET).to_dict()
    cites = d["citations"]
    assert d["confidence"] == "high" and 1 < len(cites) <= 3
    assert [c["n"] for c in cites] == list(range(1, len(cites) + 1))
    assert d["answer"] == cites[0]["quote"] and "78,44 triệu" in cites[0]["quote"]
    probabilities = [c["probability"] for c in cites]
    assert all(0 <= p <= 1 for p in probabilities) and probabilities == sorted(probabilities, reverse=True)
    assert probabilities[0] == pytest.approx(d["best_score"], abs=1e-4)
    threshold = engine.scorer.without_cross.threshold
    assert all(p >= threshold for p in probabilities)  # the others reach the (lower) threshold too
    sentences = engine.generation.sentences
    chunks = {sentences.in_span(c["source"], c["start"], c["end"])[0] for c in cites}
    assert len(chunks) == len(cites)
    assert not any(_overlap(a, b) for i, a in enumerate(cites) for b in cites[i + 1:])
    assert_verbatim(engine.generation.articles, d)
    one = answer(engine, INTERNET, config=engine.config.with_(max_citations=1)).to_dict()
    assert one["citations"] == cites[:1]


def test_where_quotes_the_sentence_naming_the_place_first(engine):
    """The sentence naming the organiser ("ICT for Peace Foundation") scores a little higher than
    the one saying "tại Hà Nội"; a "where" question quotes the place (QA_TYPED_MARGIN)."""
    d = answer(engine, CLMV_WHERE).to_dict()
    first = d["citations"][0]
    assert first["source"] == "000_7504c40543e0a5b2.txt" and d["confidence"] == "high"
    assert first["quote"][first["highlight"]["start"] - first["start"]:][:6] == "Hà Nội", first
    without = answer(engine, CLMV_WHERE, config=engine.config.with_(typed_margin=0.0)).to_dict()
    assert "Hà Nội" not in without["citations"][0]["quote"]  # the premise: the preference decides


def test_the_answer_is_among_the_first_three_citations(engine):
    """A question whose first quote misses the answer (an issue probe): it is among the others."""
    cites = answer(engine, ICRC).to_dict()["citations"]
    assert any(c["source"] == "002_259c0121d269dcd6.txt" and "Ủy ban Chữ thập đỏ Quốc tế (ICRC)" in c["quote"]
               for c in cites[:3]), cites


def test_between_the_two_thresholds_the_answer_is_low_confidence(engine):
    best = answer(engine, INTERNET).best_score
    low = engine.config.with_(answer_threshold=min(1.0, best + 0.01), low_confidence_ratio=0.5)
    d = answer(engine, INTERNET, config=low).to_dict()
    assert not d["abstained"] and d["confidence"] == "low" and "78,44 triệu" in d["answer"]
    assert d["message"] == "Độ tin cậy thấp: đoạn trích có thể không trả lời câu hỏi. Trích nguyên văn từ bài viết [1]:"
    below = engine.config.with_(answer_threshold=min(1.0, best + 0.01), low_confidence_ratio=1.0)
    gone = answer(engine, INTERNET, config=below).to_dict()
    assert gone["abstained"] and gone["citations"] == [] and "confidence" not in gone


def test_the_chat_shows_the_answer_then_the_others_collapsed(engine):
    best = answer(engine, INTERNET).best_score
    config = engine.config.with_(answer_threshold=min(1.0, best + 0.01), low_confidence_ratio=0.1)
    d = answer(engine, INTERNET, config=config).to_dict()
    assert d["confidence"] == "low" and len(d["citations"]) > 1
    html = app.render_answer(d, "vi", engine.generation.articles, 2000)
    assert html.startswith('<div class="qa-answer qa-low" lang="vi">')
    first, rest = html.split('<details class="qa-others">', 1)
    assert 'data-n="1"' in first and 'data-n="2"' not in first
    n = len(d["citations"])
    assert rest.startswith(f"<summary>Các đoạn khác có thể trả lời ({n - 1})</summary>") and f'data-n="{n}"' in rest
    assert f'độ tin cậy {round(100 * d["citations"][0]["probability"])} %' in first
    single = {**d, "citations": d["citations"][:1]}
    assert "qa-others" not in app.render_answer(single, "vi", engine.generation.articles, 2000)
