"""Dense (FAISS) + keyword (BM25) retrieval of passages, fused by z-score or reciprocal rank."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import faiss
import numpy as np

from .config import Config
from .keyword import top_rows
from .query import KeywordQuery
from .store import Generation
from .text import sentence_words
from .types import Hit


@dataclass(frozen=True)
class Carried:
    """What earlier turns add to a follow-up's passage search (index/conversation.py).

    ``queries``: keyword queries of earlier questions, each with its weight relative to the
    current question's. ``boosts``: article source -> share of the fused scores' spread added
    to its passages (a nudge towards the articles just quoted, never a filter).
    """

    queries: tuple[tuple[KeywordQuery, float], ...] = ()
    boosts: tuple[tuple[str, float], ...] = ()


def flat_index(vectors: np.ndarray) -> faiss.IndexFlatIP:
    """Exact inner-product search over unit vectors (cosine)."""
    index = faiss.IndexFlatIP(int(vectors.shape[1]) if vectors.ndim == 2 and vectors.size else 1)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def search(index: faiss.Index, query: np.ndarray, n: int) -> list[tuple[int, float]]:
    """(row, score) of the best ``n``, best first."""
    n = min(n, index.ntotal)
    if n <= 0:
        return []
    scores, rows = index.search(query.reshape(1, -1).astype(np.float32), n)
    # FAISS pads with -1 when it finds fewer than n.
    return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]


def zscores(values: np.ndarray) -> np.ndarray:
    """(x - mean) / std; all zeros when the values do not vary (e.g. no keyword matched)."""
    values = np.asarray(values, dtype=np.float64)
    std = values.std()
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def rrf(rankings: list[list[int]], k: int) -> dict[int, float]:
    """Reciprocal rank fusion: sum of 1/(k + rank) over the rankings (rank from 1)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, 1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return fused


class Retriever:
    """Passage and sentence search over one loaded generation."""

    def __init__(self, generation: Generation, config: Config):
        self.generation = generation
        # One query is too small to split across cores, and with the other core
        # busy two threads made a search ~55x slower (eval bench-scale).
        faiss.omp_set_num_threads(config.faiss_threads)
        self.chunk_index = generation.chunk_index if generation.chunk_index is not None \
            else flat_index(generation.chunk_vectors)
        # Corpus-wide sentence search (every sentence vector in memory, a BM25 pass over every
        # sentence) is for small corpora; in an archive the passages' sentences are the candidates.
        self.corpus_wide_sentences = len(generation.sentences) <= config.sentence_search_max
        self.sentence_index = flat_index(generation.sentence_vectors) if self.corpus_wide_sentences else None
        self.idf = generation.idf
        self.unseen_idf = generation.idf.unseen
        self.words_of = lru_cache(maxsize=65536)(self._words_of)

    def _words_of(self, row: int) -> frozenset[str]:
        """Words of a sentence (exact, folded, lemmas): computed for the candidates of a question only."""
        s = self.generation.sentences[row]
        return frozenset(sentence_words(s.text, self.generation.articles[s.source].language))

    def chunk_row(self, chunk_id: str) -> int:
        return self.generation.chunks.row_of(chunk_id)

    def chunk_sentences(self, c_row: int) -> tuple[int, ...]:
        """Rows of the sentences overlapping a chunk: the candidates inside a passage."""
        c = self.generation.chunks[c_row]
        return self.generation.sentences.in_span(c.source, c.start, c.end)

    def passages(self, query: KeywordQuery, query_vector: np.ndarray, config: Config,
                 k: int | None = None, carried: Carried | None = None) -> list[Hit]:
        """The top ``k`` passages (default ``config.k``) by ``config.retrieval``: hybrid, dense or keyword.

        ``carried`` adds earlier turns of a conversation (``query_vector`` then already mixes them in).
        """
        mode, k = config.retrieval, k or config.k
        n = max(config.candidates, k)
        dense = search(self.chunk_index, query_vector, n) if mode != "keyword" else []
        keyword_scores = None
        if mode != "dense":
            keyword_scores = self.generation.chunk_keywords.scores(query)
            for earlier, weight in (carried.queries if carried else ()):
                keyword_scores = keyword_scores + weight * self.generation.chunk_keywords.scores(earlier)
        keyword = top_rows(keyword_scores, n) if keyword_scores is not None else []
        dense_rows = [r for r, _ in dense]
        keyword_rows = [r for r, _ in keyword]
        if mode == "dense":
            fused = {r: s for r, s in dense}
        elif mode == "keyword":
            fused = {r: s for r, s in keyword}
        elif config.fusion == "zscore":
            rows = list(dict.fromkeys(dense_rows + keyword_rows))
            dense_part = zscores(self.generation.chunk_vectors[rows] @ query_vector)
            keyword_part = zscores(keyword_scores[rows])
            fused = {r: float(d + config.keyword_weight * b) for r, d, b in zip(rows, dense_part, keyword_part)}
        else:
            fused = rrf([dense_rows, keyword_rows], config.rrf_k)
        chunks = self.generation.chunks
        if carried and carried.boosts and fused:
            boosts, spread = dict(carried.boosts), max(fused.values()) - min(fused.values())
            fused = {r: s + boosts.get(chunks[r].source, 0.0) * spread for r, s in fused.items()}
        best = sorted(fused, key=lambda r: -fused[r])[:k]
        return [
            Hit(
                chunk=chunks[r],
                score=fused[r],
                dense_rank=dense_rows.index(r) + 1 if r in dense_rows else None,
                keyword_rank=keyword_rows.index(r) + 1 if r in keyword_rows else None,
            )
            for r in best
        ]

    def sentences(self, query: KeywordQuery, query_vector: np.ndarray, n: int) -> tuple[list[int], list[int]]:
        """Best sentence rows by dense similarity and by keywords, searched corpus-wide (small corpora only)."""
        if not self.corpus_wide_sentences:
            return [], []
        dense = [r for r, _ in search(self.sentence_index, query_vector, n)]
        keyword = [r for r, _ in self.generation.sentence_keywords.top(query, n)]
        return dense, keyword
