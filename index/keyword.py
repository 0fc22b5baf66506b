"""BM25 keyword index (bm25s) over exact and diacritic-folded tokens."""
from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

from .text import keyword_tokens

# bm25s logs an info line for every empty query; questions made only of
# punctuation are legitimate input here.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class KeywordIndex:
    """Scores every document for a query; the corpora here are small enough for dense scores."""

    def __init__(self, bm25: bm25s.BM25, size: int):
        self.bm25 = bm25
        self.size = size

    @classmethod
    def from_texts(cls, texts: list[str]) -> "KeywordIndex":
        bm25 = bm25s.BM25()
        bm25.index([keyword_tokens(t) or [""] for t in texts], show_progress=False)
        return cls(bm25, len(texts))

    def save(self, folder: Path) -> None:
        # bm25s writes JSON and .npy files with allow_pickle=False.
        self.bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> "KeywordIndex":
        bm25 = bm25s.BM25.load(str(folder), allow_pickle=False, mmap=False)
        return cls(bm25, size)

    def scores(self, query: str) -> np.ndarray:
        tokens = keyword_tokens(query)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)

    def top(self, query: str, n: int) -> list[tuple[int, float]]:
        """(row, score) of the best ``n`` documents with a positive score, best first."""
        scores = self.scores(query)
        n = min(n, len(scores))
        if n <= 0:
            return []
        rows = np.argpartition(-scores, n - 1)[:n]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [(int(r), float(scores[r])) for r in rows if scores[r] > 0]
