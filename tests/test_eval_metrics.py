"""The evaluation metrics on tiny hand-made cases, and the gold file itself (no model needed)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import GoldQuestion, load_gold, validate_row
from eval.metrics import (abstention, contains_answer, exact_match, is_hit, normalize, percentiles,
                          retrieval, span_scores, token_f1)
from eval.scoring import Row, answer_metrics
from index import Config
from index.corpus import load_corpus
from index.text import has_diacritics

GOLD = Path(__file__).resolve().parent.parent / "eval" / "gold" / "articles.jsonl"


def test_normalize_nfc_casefold_whitespace():
    decomposed = "Ha\u0300 Nô\u0323i"  # NFD: combining marks
    assert normalize(decomposed) == "hà nội"
    assert normalize("  Hà\n\tNỘI  ") == "hà nội"
    assert contains_answer("Hội thảo diễn ra tại   HÀ NỘI.", ["hà nội"])
    assert not contains_answer("Hội thảo diễn ra tại Hải Phòng.", ["Hà Nội"])
    assert not contains_answer("anything", [])


def test_hit_needs_quote_and_source():
    assert is_hit(False, "tại Hà Nội", "a.txt", ["Hà Nội"], "a.txt")
    assert not is_hit(False, "tại Hà Nội", "b.txt", ["Hà Nội"], "a.txt")  # wrong article
    assert not is_hit(True, "tại Hà Nội", "a.txt", ["Hà Nội"], "a.txt")  # abstained
    assert not is_hit(False, "tại Huế", "a.txt", ["Hà Nội"], "a.txt")
    assert not is_hit(False, "", None, [], None)  # unanswerable: never a hit


def test_token_f1_and_em():
    assert exact_match("Hà Nội.", "hà  nội") == 1.0
    assert exact_match("tại Hà Nội", "Hà Nội") == 0.0
    # pred 3 tokens, gold 2, 2 in common: P 2/3, R 1 -> F1 0.8
    assert token_f1("tại Hà Nội", "Hà Nội") == pytest.approx(0.8)
    assert token_f1("Huế", "Hà Nội") == 0.0
    assert token_f1("", "") == 1.0
    # punctuation is not a token
    assert token_f1("12 - 13/10/2017", "12 13 10 2017") == 1.0


def test_span_scores_max_over_answers_and_quote_fallback():
    em, f1 = span_scores("Hà Nội", "Hội thảo tại Hà Nội", ["Huế", "Hà Nội"])
    assert (em, f1) == (1.0, 1.0)
    em, f1 = span_scores(None, "tại Hà Nội", ["Hà Nội"])  # no highlight: quote for F1, EM 0
    assert em == 0.0 and f1 == pytest.approx(0.8)
    assert span_scores("x", "x", []) == (0.0, 0.0)


def test_abstention_precision_recall():
    answerable = [True, True, True, True, False, False]
    abstained = [False, False, False, True, True, False]
    m = abstention(answerable, abstained)
    assert m["precision"] == 0.5  # 2 abstentions, 1 on an unanswerable question
    assert m["recall"] == 0.5  # 2 unanswerable, 1 abstained
    assert m["false_abstention"] == 0.25  # 4 answerable, 1 abstained
    assert m["abstention_rate"] == pytest.approx(2 / 6)
    assert abstention([True], [False])["precision"] is None


def _row(qid, answers, abstained, hit, best=0.8, language="vi"):
    gold = GoldQuestion(id=qid, lang="vi", question="Ở đâu?", answers=tuple(answers),
                        source="a.txt" if answers else None)
    return Row(gold=gold, system="ours", language=language, best=best, abstained=abstained, answered=True,
               hit_if_answered=hit, em=1.0 if hit else 0.0, f1=1.0 if hit else 0.2, verbatim=True,
               timings={}, ranking=[], ranking_sources=[])


def test_answer_metrics_and_threshold_replay():
    rows = [_row("a", ["x"], False, True, best=0.9), _row("b", ["x"], False, False, best=0.8),
            _row("c", [], False, False, best=0.7), _row("d", [], True, False, best=0.5)]
    m = answer_metrics(rows)
    assert m["hit_rate"] == 0.5 and m["correct"] == 2 and m["accuracy"] == 0.5
    assert m["em"] == 0.5 and m["f1"] == pytest.approx(0.6)
    assert m["abstain_recall"] == 0.5 and m["abstain_precision"] == 1.0
    # Replayed at a threshold of 0.75: c now abstains, a and b still answer.
    m = answer_metrics(rows, {"vi": 0.75, "en": 0.0})
    assert m["correct"] == 3 and m["abstain_recall"] == 1.0 and m["abstain_false_abstention"] == 0.0
    # At 0.85 b abstains too: a false abstention.
    assert answer_metrics(rows, {"vi": 0.85, "en": 0.0})["abstain_false_abstention"] == 0.5


def test_retrieval_through_ranx():
    relevant = {"q1": {"d1"}, "q2": {"d2"}, "q3": {"d3"}, "q4": set()}
    rankings = {"q1": ["d1", "x"], "q2": ["x", "y", "d2"], "q3": [], "q4": ["d4"]}
    m = retrieval(relevant, rankings)
    assert m["n"] == 3  # q4 has nothing relevant: left out
    assert m["recall@1"] == pytest.approx(1 / 3)
    assert m["recall@5"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    # two relevant passages, one found at rank 1: recall 1/2, hit rate 1
    m = retrieval({"q": {"a", "b"}}, {"q": ["a", "c", "c"]})
    assert m["recall@1"] == 0.5 and m["hit_rate@1"] == 1.0
    assert retrieval({"q": set()}, {"q": ["a"]}) is None


def test_percentiles():
    p = percentiles([1, 2, 3, 4, 5, None])
    assert p["p50"] == 3 and p["p95"] == pytest.approx(4.8)
    assert percentiles([])["p50"] is None


def test_gold_format():
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    problems = [p for n, row in enumerate(rows, 1) for p in validate_row(row, n)]
    assert not problems
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r.get("split") in ("dev", "test") for r in rows)
    questions = load_gold(GOLD)
    groups = {q.group for q in questions}
    assert groups == {"vi", "unaccented", "en"}
    assert all(not has_diacritics(q.question) for q in questions if q.group == "unaccented")
    for split in ("dev", "test"):
        assert any(not q.answerable for q in questions if q.split == split)
    assert validate_row({"id": "x", "lang": "fr", "question": "", "answers": ["a"], "source": None}, 1)


def test_every_gold_span_is_in_the_cleaned_article():
    articles, _ = load_corpus(Config().corpus_dir)
    texts = {a.source: a.text for a in articles}
    missing = []
    for q in load_gold(GOLD):
        if not q.answerable:
            continue
        assert q.source in texts, f"{q.id}: unknown source {q.source}"
        missing += [(q.id, a) for a in q.answers if a not in texts[q.source]]
    assert not missing, f"gold spans not verbatim in the cleaned text: {missing}"


def test_reliability_bins_hold_equal_counts_and_their_accuracy():
    import numpy as np

    from eval.calibration_plot import reliability

    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    correct = np.array([0, 0, 0, 1, 1, 1, 1, 0], dtype=float)
    bins = reliability(scores, correct, 2)
    assert [b["n"] for b in bins] == [4, 4]
    assert bins[0] == {"score": 0.25, "correct": 0.25, "n": 4} and bins[1]["correct"] == 0.75
