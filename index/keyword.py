"""BM25 keyword index (bm25s) over exact and diacritic-folded tokens."""
from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

from .query import KeywordQuery
from .text import keyword_tokens

# bm25s logs an info line for every empty query; questions made only of
# punctuation are legitimate input here.
logging.getLogger("bm25s").setLevel(logging.WARNING)


def top_rows(scores: np.ndarray, n: int) -> list[tuple[int, float]]:
    """(row, score) of the best ``n`` positive scores, best first."""
    n = min(n, len(scores))
    if n <= 0:
        return []
    rows = np.argpartition(-scores, n - 1)[:n]
    rows = rows[np.argsort(-scores[rows], kind="stable")]
    return [(int(r), float(scores[r])) for r in rows if scores[r] > 0]



class KeywordIndex:
    """Scores every document for a query; the corpora here are small enough for dense scores."""

    def __init__(self, bm25: bm25s.BM25, size: int):
        self.bm25 = bm25
        self.size = size

    @classmethod
    def from_texts(cls, texts: list[str], languages: list[str] | None = None) -> "KeywordIndex":
        """Index ``texts``, each tokenised for its language ("vi" unless given)."""
        languages = languages or ["vi"] * len(texts)
        bm25 = bm25s.BM25()
        bm25.index([keyword_tokens(t, lang) or [""] for t, lang in zip(texts, languages)], show_progress=False)
        return cls(bm25, len(texts))

    def save(self, folder: Path) -> None:
        # bm25s writes JSON and .npy files with allow_pickle=False.
        self.bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> "KeywordIndex":
        bm25 = bm25s.BM25.load(str(folder), allow_pickle=False, mmap=True)
        return cls(bm25, size)

    def _scores(self, tokens: list[str]) -> np.ndarray:
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)

    def scores(self, query: KeywordQuery) -> np.ndarray:
        """Sum over the query's groups of the best alternative's BM25 score, per document."""
        total = np.zeros(self.size, dtype=np.float32)
        for group in query.groups:
            best = None
            for term in group.alternatives:
                s = self._scores(term.tokens())
                best = s if best is None else np.maximum(best, s)
            if best is not None:
                total += best
        return total

    def top(self, query: KeywordQuery, n: int) -> list[tuple[int, float]]:
        """(row, score) of the best ``n`` documents with a positive score, best first."""
        return top_rows(self.scores(query), n)
