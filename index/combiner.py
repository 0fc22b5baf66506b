"""The learned answer-sentence scorer: a logistic regression over the candidates' features.

The pipeline's features (sentence and passage cosines, word coverage through
the lexicon, a span of the asked type) and, when ``RERANK_MODEL`` names one,
the logit of a cross-encoder (``rerank.py``) that reads the question and the
sentence together, become the probability that the sentence answers the
question. Both the weights and the abstention threshold are fitted on held-out
SQuAD articles (``scripts/fit_combiner.py``), never on the corpus under
evaluation. The weights lean on the sentence cosine, which runs lower between
languages, as does the word coverage, so a question and a sentence in different
languages get ``Config.cross_lingual_shift`` added to their cosines and their
coverage divided by ``Config.cross_lingual_coverage_ratio`` first (a question
typed without diacritics gets ``Config.unaccented_shift``; all measured on the
XQuAD dev part). It is the default scorer, without the cross-encoder
unless ``RERANK_MODEL`` names one (README, "The learned answer scorer").
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .extract import Scored
from .question import Question
from .retrieve import Retriever
from .text import has_diacritics

FEATURES = ("sentence", "coverage", "passage", "typed", "cross")
COMBINER_FILE = "combiner.json"


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
    """A logistic regression over some of ``FEATURES`` and the threshold its probability answers at."""

    weights: tuple[float, ...]
    bias: float
    threshold: float  # answer when the best probability reaches it
    meta: dict
    features: tuple[str, ...] = FEATURES

    @classmethod
    def from_dict(cls, data: dict, where: str) -> "Combiner":
        """The combiner ``data`` describes (``to_dict``); ``where`` names its file in errors.

        Raises
        ------
        RerankerError
            When a field is missing or malformed, or the features are not a subset of ``FEATURES``
            with one weight each.
        """
        from .rerank import REBUILD, RerankerError

        try:
            names = tuple(data.get("features", FEATURES))
            weights = tuple(map(float, data["weights"]))
            combiner = cls(weights, float(data["bias"]), float(data["threshold"]), data.get("meta", {}), names)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise RerankerError(f"{where}: not a combiner ({type(exc).__name__}: {exc}); {REBUILD}") from None
        if not set(names) <= set(FEATURES) or len(weights) != len(names):
            raise RerankerError(f"{where}: features {list(names)} are not a subset of {list(FEATURES)} "
                                f"with one weight each; {REBUILD}")
        return combiner

    def to_dict(self) -> dict:
        return {"features": list(self.features), "weights": list(self.weights), "bias": self.bias,
                "threshold": self.threshold, "meta": self.meta}

    def probability(self, x: np.ndarray) -> np.ndarray:
        """``x``: rows of all ``FEATURES``; the ones this model does not read are ignored."""
        columns = [FEATURES.index(f) for f in self.features]
        return 1 / (1 + np.exp(-(x[:, columns] @ np.asarray(self.weights) + self.bias)))


def load_combiners(folder: Path) -> tuple[Combiner, Combiner | None]:
    """(the combiner, the one fitted without the cross-encoder, if there is one) from ``folder/combiner.json``.

    Raises
    ------
    RerankerError
        When the file is missing, damaged (sha256 against ``folder/manifest.json``) or unreadable.
    """
    from .rerank import REBUILD, RerankerError, verify_files

    verify_files(folder, (COMBINER_FILE,))
    path = Path(folder) / COMBINER_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RerankerError(f"{path} is unreadable ({exc}); {REBUILD}") from None
    without = data.get("without_cross")
    return Combiner.from_dict(data, str(path)), (Combiner.from_dict(without, f"{path} without_cross")
                                                 if without else None)


class AnswerScorer:
    """The combiner (with a cross-encoder's logit, if there is one) over the hand-scored candidates:
    their probability of answering.

    ``without_cross`` is the combiner fitted without the cross-encoder. It scores
    every candidate when there is no cross-encoder (``reranker`` None), and the
    pairs of a question and a sentence in different languages: trained on English
    pairs, the cross-encoder picks the answer sentence of an English question
    inside a Vietnamese paragraph less often than the cosine does (``python -m eval
    select``). Each combiner has its own threshold.
    """

    def __init__(self, reranker, combiner: Combiner, without_cross: Combiner | None = None):
        if reranker is None and without_cross is None:
            raise ValueError("without a cross-encoder the scorer needs the combiner fitted without it")
        self.reranker, self.combiner, self.without_cross = reranker, combiner, without_cross

    def threshold(self, best: Scored) -> float:
        """What ``best``'s probability must reach: the threshold of the combiner that scored it."""
        plain = self.without_cross is not None and best.cross is None
        return self.without_cross.threshold if plain else self.combiner.threshold

    def nominal_threshold(self, cross: bool) -> float:
        """The threshold for same-language candidates, with the cross-encoder read or not."""
        return self.combiner.threshold if cross and self.reranker is not None else (
            self.without_cross or self.combiner).threshold

    def rescore(self, question: Question, scored: list[Scored], retriever: Retriever, config) -> list[Scored]:
        """The best ``config.rerank_candidates`` with ``score`` = probability of answering, best first.

        A candidate in another language than the question gets ``config.cross_lingual_shift`` added
        to its cosines and its word coverage divided by ``config.cross_lingual_coverage_ratio``; the
        others get ``config.unaccented_shift`` added to their cosines when the question is Vietnamese
        without diacritics. ``config.rerank_model`` "none" leaves the cross-encoder out.
        """
        top = scored[:config.rerank_candidates]
        if not top:
            return []
        sentences, articles = retriever.generation.sentences, retriever.generation.articles
        across = [articles[sentences[s.row].source].language != question.language for s in top]
        # The combiners were fitted on same-language pairs of accented text; across languages cosines and
        # coverage run lower, and so do the cosines of a question typed without diacritics.
        shift, ratio = config.cross_lingual_shift, config.cross_lingual_coverage_ratio
        unaccented = (config.unaccented_shift if question.language == "vi" and not has_diacritics(question.text)
                      else 0.0)
        seen = [replace(s, dense=s.dense + shift, passage=s.passage + shift, coverage=s.coverage / ratio)
                if a else replace(s, dense=s.dense + unaccented, passage=s.passage + unaccented)
                for s, a in zip(top, across)]
        # Without the combiner fitted without it, the cross-encoder reads every pair.
        alone = self.without_cross is None
        use_cross = self.reranker is not None and (config.rerank_model != "none" or alone)
        read = [i for i, a in enumerate(across) if use_cross and (alone or not a)]
        logits = np.full(len(top), np.nan)
        if read:
            logits[read] = self.reranker.predict([(question.text, sentences[top[i].row].text) for i in read])
        x = features(seen, np.nan_to_num(logits), question.kind is not None)
        p_cross = self.combiner.probability(x)
        p_plain = self.without_cross.probability(x) if not alone else p_cross
        out = [replace(s, score=float(p_plain[i] if np.isnan(logits[i]) else p_cross[i]),
                       cross=None if np.isnan(logits[i]) else float(logits[i])) for i, s in enumerate(top)]
        return sorted(out, key=lambda s: -s.score)


def load_scorer(config, delta_dir: Path | None = None) -> AnswerScorer | None:
    """The learned scorer of ``config`` (cross-encoder per ``config.rerank_model``), or None for the hand-made one."""
    if config.scorer == "hand":
        return None
    from .rerank import DEFAULT_DELTA, load_reranker

    folder = Path(delta_dir or DEFAULT_DELTA)
    combiner, without_cross = load_combiners(folder)
    return AnswerScorer(load_reranker(config, folder), combiner, without_cross)
