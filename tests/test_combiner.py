"""The learned answer scorer's plumbing, with a stand-in cross-encoder (no model)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from checks import assert_verbatim
from index import answer
from index.combiner import FEATURES, AnswerScorer, Combiner, fit_logistic
from index.rerank import RerankerError

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
                     config=fake_engine.config.with_(scorer="learned"))
    d = answer(engine, INTERNET).to_dict()
    assert not d["abstained"] and marker in d["citations"][0]["quote"]
    assert d["best_score"] == pytest.approx(1 / (1 + np.exp(-5)), abs=1e-4)
    assert_verbatim(engine.generation.articles, d)


def test_scorer_threshold_decides_abstention(fake_engine):
    engine = replace(fake_engine, scorer=AnswerScorer(KeywordReranker("no such text"), only_cross(0.5)),
                     config=fake_engine.config.with_(scorer="learned"))
    assert answer(engine, INTERNET).abstained  # every candidate scores sigmoid(-5)
    lenient = engine.config.with_(answer_threshold=0.001)
    assert not answer(engine, INTERNET, config=lenient).abstained


def test_hand_scorer_leaves_the_learned_one_out(fake_engine):
    engine = replace(fake_engine, scorer=AnswerScorer(KeywordReranker("no such text"), only_cross(0.5)),
                     config=fake_engine.config.with_(scorer="hand"))
    assert not answer(engine, INTERNET).abstained  # the hand-made score and its threshold decide


ENGLISH = "How many people in Vietnam use the internet?"
UNACCENTED = "Viet Nam co bao nhieu nguoi su dung internet?"


@pytest.mark.parametrize("knob, feature, moved", [
    ("cross_lingual_shift", "sentence", {ENGLISH}),
    ("unaccented_shift", "sentence", {UNACCENTED}),
])
def test_shifts_lift_only_the_questions_they_are_for(fake_engine, knob, feature, moved):
    """A combiner reading one feature with weight 2: a shift of 0.25 moves the logit by 0.5, or not at all."""
    only = Combiner(weights=tuple(2.0 if f == feature else 0.0 for f in FEATURES), bias=-1.0, threshold=0.0, meta={})
    off = {"cross_lingual_shift": 0.0, "cross_lingual_coverage_ratio": 1.0, "unaccented_shift": 0.0}
    engine = replace(fake_engine, scorer=AnswerScorer(KeywordReranker("x"), only),
                     config=fake_engine.config.with_(scorer="learned", **off))
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    for question in (INTERNET, ENGLISH, UNACCENTED):
        plain = answer(engine, question).to_dict()["best_score"]
        shifted = answer(engine, question, config=engine.config.with_(**{knob: 0.25})).to_dict()["best_score"]
        expected = 0.5 if question in moved else 0.0
        assert logit(shifted) - logit(plain) == pytest.approx(expected, abs=2e-3), question  # best_score: 4 decimals


def test_coverage_ratio_scales_only_questions_in_another_language(fake_engine):
    """A combiner reading only the coverage: dividing by 0.5 doubles an English question's coverage term."""
    only = Combiner(weights=tuple(2.0 if f == "coverage" else 0.0 for f in FEATURES), bias=-1.0, threshold=0.0,
                    meta={})
    engine = replace(fake_engine, scorer=AnswerScorer(KeywordReranker("x"), only),
                     config=fake_engine.config.with_(scorer="learned", cross_lingual_coverage_ratio=1.0))
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    for question in (INTERNET, ENGLISH):
        plain = logit(answer(engine, question).to_dict()["best_score"])
        scaled = logit(answer(engine, question, config=engine.config.with_(cross_lingual_coverage_ratio=0.5))
                       .to_dict()["best_score"])
        expected = plain + (plain + 1.0) if question == ENGLISH else plain  # 2 x coverage doubles
        assert scaled == pytest.approx(expected, abs=5e-3), question


class RecordingReranker(KeywordReranker):
    def __init__(self, marker: str):
        super().__init__(marker)
        self.pairs: list = []

    def predict(self, pairs):
        self.pairs += pairs
        return super().predict(pairs)


def only(feature: str, threshold: float, weight: float = 1.0) -> Combiner:
    names = tuple(f for f in FEATURES if f != "cross") if feature != "cross" else FEATURES
    return Combiner(weights=tuple(weight if f == feature else 0.0 for f in names), bias=0.0, threshold=threshold,
                    meta={}, features=names)


def test_pairs_across_languages_skip_the_cross_encoder(fake_engine):
    """An English question over Vietnamese articles: the combiner without the cross-encoder, and its threshold."""
    reranker = RecordingReranker("79,1% dân số")
    scorer = AnswerScorer(reranker, only_cross(0.5), without_cross=only("sentence", threshold=0.99))
    engine = replace(fake_engine, scorer=scorer, config=fake_engine.config.with_(scorer="learned", rerank_model="ours"))
    english = answer(engine, ENGLISH)
    assert reranker.pairs == [] and english.abstained  # sigmoid(cosine) < 0.99: the without-cross threshold cut
    lenient = replace(engine, scorer=AnswerScorer(reranker, only_cross(0.5),
                                                  without_cross=only("sentence", threshold=0.5)))
    assert not answer(lenient, ENGLISH).abstained
    vietnamese = answer(engine, INTERNET).to_dict()
    assert reranker.pairs and "79,1% dân số" in vietnamese["citations"][0]["quote"]  # same language: read


def test_rerank_model_none_scores_with_the_combiner_without_cross_encoder(fake_engine):
    reranker = RecordingReranker("79,1% dân số")
    scorer = AnswerScorer(reranker, only_cross(0.5), without_cross=only("coverage", threshold=0.5, weight=5.0))
    engine = replace(fake_engine, scorer=scorer, config=fake_engine.config.with_(scorer="learned", rerank_model="none"))
    d = answer(engine, INTERNET).to_dict()
    assert reranker.pairs == [] and not d["abstained"]
    assert d["best_score"] > 0.5  # sigmoid(5 x coverage), not the cross-encoder's sigmoid(+-5)
    with pytest.raises(ValueError):
        AnswerScorer(None, only_cross(0.5))  # nothing could score without the cross-encoder


GOOD = {"features": ["sentence", "coverage"], "weights": [1.0, 2.0], "bias": -1.0, "threshold": 0.5, "meta": {}}


def test_combiner_round_trips_through_its_dict():
    combiner = Combiner.from_dict(GOOD, "combiner.json")
    assert combiner == Combiner((1.0, 2.0), -1.0, 0.5, {}, ("sentence", "coverage"))
    assert Combiner.from_dict(combiner.to_dict(), "again") == combiner


@pytest.mark.parametrize("damage", [
    {"weights": None}, {"bias": None}, {"threshold": None},  # None: the key is missing
    {"weights": ["heavy", 1.0]}, {"bias": [1]}, {"weights": 3},
    {"features": ["sentence", "mood"]}, {"weights": [1.0]},
])
def test_malformed_combiner_is_a_reranker_error_with_the_rebuild_command(damage):
    data = {k: v for k, v in {**GOOD, **damage}.items() if v is not None}
    with pytest.raises(RerankerError, match=r"^combiner\.json: .*make train-reranker"):
        Combiner.from_dict(data, "combiner.json")


def test_combiner_that_is_not_an_object_is_a_reranker_error():
    with pytest.raises(RerankerError, match="make train-reranker"):
        Combiner.from_dict([1.0, 2.0], "combiner.json without_cross")


class KeepsNothing(AnswerScorer):
    """A learned scorer that keeps no candidate."""

    def rescore(self, question, scored, retriever, config):
        return []


def test_answer_abstains_when_the_scorer_keeps_no_candidate(fake_engine):
    engine = replace(fake_engine, scorer=KeepsNothing(KeywordReranker("x"), only_cross(0.5)),
                     config=fake_engine.config.with_(scorer="learned"))
    d = answer(engine, INTERNET).to_dict()
    assert d["abstained"] and d["citations"] == [] and d["passages"] and d["best_score"] is None
