"""BM25 keyword index (bm25s) over exact and diacritic-folded tokens."""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np

from .query import KeywordQuery
from .tables import ReadOnlyDb
from .text import keyword_tokens

# bm25s logs an info line for every empty query; questions made only of
# punctuation are legitimate input here.
logging.getLogger("bm25s").setLevel(logging.WARNING)
VOCAB_JSON, VOCAB_DB = "vocab.index.json", "vocab.sqlite"


def top_rows(scores: np.ndarray, n: int) -> list[tuple[int, float]]:
    """(row, score) of the best ``n`` positive scores, best first."""
    n = min(n, len(scores))
    if n <= 0:
        return []
    rows = np.argpartition(-scores, n - 1)[:n]
    rows = rows[np.argsort(-scores[rows], kind="stable")]
    return [(int(r), float(scores[r])) for r in rows if scores[r] > 0]



class SqliteVocabulary(Mapping):
    """bm25s's token -> id map, read per query token from SQLite.

    With folded bigrams the vocabulary has millions of entries at archive size;
    as a Python dict it would cost gigabytes and seconds at every start.
    """

    def __init__(self, path: Path):
        self._db = ReadOnlyDb(path)
        self._id = lru_cache(maxsize=65536)(self._fetch)

    @staticmethod
    def write(path: Path, vocabulary: dict) -> None:
        db = sqlite3.connect(path)
        try:
            db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                             "CREATE TABLE vocab (token TEXT PRIMARY KEY, id INTEGER) WITHOUT ROWID;")
            db.executemany("INSERT INTO vocab VALUES (?, ?)", vocabulary.items())
            db.commit()
        finally:
            db.close()

    def _fetch(self, token: str) -> int | None:
        found = self._db.one("SELECT id FROM vocab WHERE token = ?", (token,))
        return None if found is None else found[0]

    def __getitem__(self, token: str) -> int:
        found = self._id(token) if isinstance(token, str) else None
        if found is None:
            raise KeyError(token)
        return found

    def __contains__(self, token) -> bool:
        return isinstance(token, str) and self._id(token) is not None

    def __len__(self) -> int:
        return self._db.one("SELECT COUNT(*) FROM vocab")[0]

    def __iter__(self) -> Iterator[str]:
        return iter([t for (t,) in self._db.all("SELECT token FROM vocab")])


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
        # bm25s writes JSON and .npy files with allow_pickle=False; its vocabulary goes to SQLite.
        self.bm25.save(str(folder), show_progress=False)
        (Path(folder) / VOCAB_JSON).unlink()
        SqliteVocabulary.write(Path(folder) / VOCAB_DB, self.bm25.vocab_dict)

    @classmethod
    def load(cls, folder: Path, size: int) -> "KeywordIndex":
        bm25 = bm25s.BM25.load(str(folder), allow_pickle=False, mmap=True, load_vocab=False, show_progress=False)
        bm25.vocab_dict = SqliteVocabulary(Path(folder) / VOCAB_DB)
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
