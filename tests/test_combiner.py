"""The learned answer scorer's plumbing, with a stand-in cross-encoder (no model)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from checks import assert_verbatim
from index import answer
from index.combiner import FEATURES, AnswerScorer, Combiner, fit_logistic

INTERNET = "Việt Nam có bao nhiêu người sử dụng internet?"


class KeywordReranker:
    """Logit 5 for sentences holding a marker string, -5 otherwise."""

    def __init__(self, marker: str):
        self.marker = marker

    def predict(self, pairs):
        return np.array([5.0 if self.marker in s else -5.0 for _, s in pairs])


def only_cross(threshold: float) -> Combiner:
    return Combiner(weights=tuple(1.0 if f == "cross" else 0.0 for f in FEATURES), bias=0.0,
                    threshold=threshold, meta={})


def test_fit_logistic_separates_a_separable_feature():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 1] > 0).astype(float)
    w, b = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(x @ w + b)))
    assert ((p > 0.5) == (y == 1)).mean() > 0.97 and abs(w[1]) > 5 * abs(w[0])


def test_scorer_picks_what_the_cross_encoder_prefers(fake_engine):
    marker = "79,1% dân số"
    engine = replace(fake_engine, scorer=AnswerScorer(KeywordReranker(marker), only_cross(0.5)),
                     config=fake_engine.config.with_(rerank_model=""))
    d = answer(engine, INTERNET).to_dict()
    assert not d["abstained"] and marker in d["citations"][0]["quote"]
    assert d["best_score"] == pytest.approx(1 / (1 + np.exp(-5)), abs=1e-4)
    assert_verbatim(engine.generation.articles, d)


def test_scorer_threshold_decides_abstention(fake_engine):
    engine = replace(fake_engine, scorer=AnswerScorer(KeywordReranker("no such text"), only_cross(0.5)),
                     config=fake_engine.config.with_(rerank_model=""))
    assert answer(engine, INTERNET).abstained  # every candidate scores sigmoid(-5)
    lenient = engine.config.with_(answer_threshold=0.001)
    assert not answer(engine, INTERNET, config=lenient).abstained


def test_rerank_model_none_turns_the_scorer_off(fake_engine):
    engine = replace(fake_engine, scorer=AnswerScorer(KeywordReranker("no such text"), only_cross(0.5)))
    assert engine.config.rerank_model == "none"
    assert not answer(engine, INTERNET).abstained  # the hand-made score and its threshold decide


def test_cross_lingual_shift_lifts_only_questions_in_another_language(fake_engine):
    """A combiner reading only the sentence cosine: the shift raises English questions' scores by weight x shift."""
    only_cosine = Combiner(weights=tuple(1.0 if f == "sentence" else 0.0 for f in FEATURES), bias=0.0,
                           threshold=0.0, meta={})
    engine = replace(fake_engine, scorer=AnswerScorer(KeywordReranker("x"), only_cosine),
                     config=fake_engine.config.with_(rerank_model="", cross_lingual_shift=0.0))
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    for question, moves in ((INTERNET, False), ("How many people in Vietnam use the internet?", True)):
        plain = answer(engine, question).to_dict()["best_score"]
        shifted = answer(engine, question, config=engine.config.with_(cross_lingual_shift=0.5)).to_dict()["best_score"]
        assert logit(shifted) - logit(plain) == pytest.approx(0.5 if moves else 0.0, abs=2e-3), question  # best_score has 4 decimals
