"""The learned answer-sentence scorer: a cross-encoder, combined with the hand-made features.

The cross-encoder (``rerank.py``) reads the question and a candidate sentence
together. Its logit alone forgets what the bi-encoder knows across languages,
so a logistic regression combines it with the features the pipeline already
computes (sentence and passage cosines, word coverage through the lexicon, a
span of the asked type) into the probability that the sentence answers the
question. Both the weights and the abstention threshold are fitted on held-out
SQuAD articles (``scripts/fit_combiner.py``), never on the corpus under
evaluation. The weights are fitted to our cross-encoder's logits. They lean on
the sentence cosine, which runs lower between languages, so a question and a
sentence in different languages get ``Config.cross_lingual_shift`` added to
their cosines first. The scorer is off by default (README, "The learned answer
scorer").
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .extract import Scored
from .question import Question
from .retrieve import Retriever

FEATURES = ("sentence", "coverage", "passage", "typed", "cross")


def features(scored: list[Scored], logits: np.ndarray, typed_question: bool) -> np.ndarray:
    """One row per candidate, columns as ``FEATURES``."""
    return np.array([[s.dense, s.coverage, s.passage, float(s.typed and typed_question), float(x)]
                     for s, x in zip(scored, logits)], dtype=np.float64).reshape(-1, len(FEATURES))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, iterations: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression, by Newton's method (a few features)."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-z @ w))
        grad = z.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        hess = (z * (p * (1 - p))[:, None]).T @ z + l2 * np.diag(np.r_[np.ones(len(w) - 1), 0])
        w -= np.linalg.solve(hess, grad)
    weights = w[:-1] / std
    return weights, float(w[-1] - (w[:-1] * mean / std).sum())


@dataclass(frozen=True)
class Combiner:
    weights: tuple[float, ...]
    bias: float
    threshold: float  # answer when the best probability reaches it
    meta: dict

    @classmethod
    def load(cls, path: Path) -> "Combiner":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: features {data['features']} are not {list(FEATURES)}; refit it")
        return cls(tuple(data["weights"]), float(data["bias"]), float(data["threshold"]), data.get("meta", {}))

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(x @ np.asarray(self.weights) + self.bias)))


class AnswerScorer:
    """Cross-encoder + combiner over the hand-scored candidates: their probability of answering."""

    def __init__(self, reranker, combiner: Combiner):
        self.reranker, self.combiner = reranker, combiner

    @property
    def threshold(self) -> float:
        return self.combiner.threshold

    def rescore(self, question: Question, scored: list[Scored], retriever: Retriever, n: int,
                shift: float = 0.0) -> list[Scored]:
        """The best ``n`` candidates with ``score`` = probability of answering, best first.

        ``shift`` is added to the cosines of a candidate in another language than the question.
        """
        top = scored[:n]
        if not top:
            return []
        sentences, articles = retriever.generation.sentences, retriever.generation.articles
        logits = np.asarray(self.reranker.predict([(question.text, sentences[s.row].text) for s in top]))
        # The combiner was fitted on same-language pairs; across languages the cosines run lower.
        seen = [replace(s, dense=s.dense + shift, passage=s.passage + shift)
                if shift and articles[sentences[s.row].source].language != question.language else s for s in top]
        probability = self.combiner.probability(features(seen, logits, question.kind is not None))
        out = [replace(s, score=float(p), cross=float(x)) for s, p, x in zip(top, probability, logits)]
        return sorted(out, key=lambda s: -s.score)


def load_scorer(config, delta_dir: Path | None = None) -> AnswerScorer | None:
    """The configured scorer: ours (the shipped weights), a hub cross-encoder, or None ("none")."""
    if config.rerank_model == "none":
        return None
    from .rerank import DEFAULT_DELTA, load_reranker

    folder = Path(delta_dir or DEFAULT_DELTA)
    reranker = load_reranker(config, folder)
    return AnswerScorer(reranker, Combiner.load(folder / "combiner.json"))
