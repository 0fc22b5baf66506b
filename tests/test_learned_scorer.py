"""The shipped learned scorer (index/data/reranker): verification, ordering, abstention, and its training scripts."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from index import answer
from index.answer import candidates
from index.combiner import FEATURES, load_combiners
from index.question import parse
from index.rerank import DEFAULT_DELTA, RerankerError, verify_delta

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_combiners_verify_and_load():
    combiner, without_cross = load_combiners(DEFAULT_DELTA)
    assert combiner.features == FEATURES and without_cross is not None and "cross" not in without_cross.features
    assert 0 < without_cross.threshold < 1 and 0 < combiner.threshold < 1
    assert verify_delta(DEFAULT_DELTA)["files"]["combiner.json"]


def test_damaged_combiner_is_refused_with_the_rebuild_command(tmp_path):
    folder = Path(shutil.copytree(DEFAULT_DELTA, tmp_path / "delta"))
    path = folder / "combiner.json"
    path.write_text(path.read_text().replace('"bias": -', '"bias": '))  # still valid JSON, other numbers
    with pytest.raises(RerankerError, match="damaged.*make train-reranker"):
        load_combiners(folder)
    path.unlink()
    with pytest.raises(RerankerError, match="missing.*make train-reranker"):
        load_combiners(folder)


def test_the_default_config_answers_with_the_learned_scorer(engine):
    """By default the combiner without the cross-encoder scores the hand-scored candidates: the answer's
    score is its probability for the chosen sentence, and the answer stands or falls at its threshold."""
    question = "Việt Nam có bao nhiêu người sử dụng internet?"  # accented, Vietnamese articles: no shift
    _, scored = candidates(engine, parse(question), engine.config)
    ans = answer(engine, question)
    assert not ans.abstained and "78,44 triệu" in ans.quotes[0].text, ans.to_dict()
    plain = engine.scorer.without_cross
    chosen = next(s for s in scored if "78,44 triệu" in engine.generation.sentences[s.row].text)
    x = dict(zip(FEATURES, (chosen.dense, chosen.coverage, chosen.passage, float(chosen.typed), 0.0)))
    expected = 1 / (1 + math.exp(-(sum(w * x[f] for f, w in zip(plain.features, plain.weights)) + plain.bias)))
    assert ans.best_score == pytest.approx(expected) and ans.best_score != pytest.approx(chosen.score)
    assert ans.best_score >= plain.threshold
    above = engine.config.with_(answer_threshold=min(1.0, ans.best_score + 1e-6))
    at = engine.config.with_(answer_threshold=ans.best_score)
    assert answer(engine, question, config=above).abstained and not answer(engine, question, config=at).abstained


@pytest.mark.parametrize("question", [
    "Việt Nam có bao nhiêu người sử dụng internet?",
    "How many internet users did Vietnam have at the start of 2024?",
])
def test_answer_sentence_scores_above_its_paragraph_neighbours(engine, question):
    q = parse(question)
    _, scored = candidates(engine, q, engine.config)
    rescored = engine.scorer.rescore(q, scored, engine.retriever, engine.config.with_(rerank_candidates=len(scored)))
    sentences = engine.generation.sentences
    by_row = {s.row: s for s in rescored}
    (gold,) = [s for s in rescored if "78,44 triệu" in sentences[s.row].text]
    neighbours = [by_row[r] for r in (gold.row - 1, gold.row + 1)
                  if r in by_row and sentences[r].source == sentences[gold.row].source]
    assert neighbours, "the neighbours are candidates too (same passage)"
    assert all(gold.score > n.score for n in neighbours), [(sentences[s.row].text[:60], s.score)
                                                           for s in [gold, *neighbours]]
    assert rescored[0].row == gold.row


def test_off_topic_questions_abstain(engine):
    hand = replace(engine, config=engine.config.with_(scorer="hand"))
    france = answer(engine, "Thủ đô của Pháp là gì?")
    assert france.abstained and france.best_score < engine.scorer.without_cross.threshold  # the probability decides
    # Its best sentence names no winner, so the who-question abstains; the hand-made score quoted one that did.
    assert answer(engine, "Who won the 2022 FIFA World Cup?").abstained
    assert not answer(hand, "Who won the 2022 FIFA World Cup?").abstained


@pytest.mark.parametrize("question", [
    "Bộ Tư lệnh 86 được thành lập vào năm nào?",  # Command 86 is there, its founding year is not
    "How many people attended the Ministry of Defence and ICRC webinar on cyber warfare?",  # no head count
])
def test_near_misses_are_never_a_confident_answer(engine, question):
    """Details the articles do not state, about things they do discuss (gold unanswerable questions).

    The learned ranking puts a sentence without the asked year or count first: quoted at most
    as low confidence (its probability is above QA_TYPED_MISS_THRESHOLD), with no highlight;
    the hand-made score put one with an unrelated date or number first and answered with high
    confidence. (On news text the probability alone does not separate these from answerable
    questions: README, "The learned answer scorer".)
    """
    d = answer(engine, question).to_dict()
    assert d["abstained"] or (d["confidence"] == "low" and d["citations"][0]["highlight"] is None), d
    strict = answer(engine, question, config=engine.config.with_(typed_miss_threshold=1.0))
    assert strict.abstained  # the typed-answer rule alone decides here
    hand = replace(engine, config=engine.config.with_(scorer="hand"))
    assert answer(hand, question).confidence == "high"


def _run(args: list[str]) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.mark.integration
def test_training_smoke_run_writes_a_verified_delta(tmp_path):
    out = tmp_path / "delta"
    _run(["scripts/train_reranker.py", "--smoke", "--out", str(out)])
    manifest = verify_delta(out)
    assert manifest["pairs"] == 50 and manifest["seed"] == 13
    assert (out / "delta.safetensors").stat().st_size <= 25e6


@pytest.mark.integration
def test_fitting_the_combiner_writes_both_combiners_into_the_manifest(tmp_path):
    delta = Path(shutil.copytree(DEFAULT_DELTA, tmp_path / "delta"))
    (delta / "combiner.json").unlink()
    _run(["scripts/fit_combiner.py", "--paragraphs", "6", "--delta", str(delta), "--work", str(tmp_path / "work")])
    combiner, without_cross = load_combiners(delta)  # verified against the updated manifest
    assert without_cross is not None and len(combiner.weights) == len(FEATURES)
    meta = json.loads((delta / "combiner.json").read_text())["meta"]
    assert meta["fitted_on"].startswith("6 held-out SQuAD paragraphs")
