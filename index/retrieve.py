"""Dense (FAISS) + keyword (BM25) retrieval of passages, fused by z-score or reciprocal rank."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import faiss
import numpy as np

from .config import Config
from .keyword import top_rows
from .query import KeywordQuery
from .store import Generation
from .text import sentence_words
from .types import Filter, Hit


@dataclass(frozen=True)
class Carried:
    """What earlier turns add to a follow-up's passage search (index/conversation.py).

    ``queries``: keyword queries of earlier questions, each with its weight relative to the
    current question's. ``boosts``: article source -> share of the fused scores' spread added
    to its passages (a nudge towards the articles just quoted, never a filter).
    """

    queries: tuple[tuple[KeywordQuery, float], ...] = ()
    boosts: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Selection:
    """What a ``Filter`` lets retrieval see: its articles' chunk and sentence rows (boolean masks)."""

    articles: int
    chunks: np.ndarray
    sentences: np.ndarray


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


def search_selected(index: faiss.Index, vectors: np.ndarray, query: np.ndarray, n: int, selected: np.ndarray,
                    exact_max: int) -> list[tuple[int, float]]:
    """(row, score) of the best ``n`` among the ``selected`` rows, best first.

    Up to ``exact_max`` selected rows are scored exactly, here; more are searched by ``index``
    told to skip the others (an IVF index probes as many lists as without a selection).
    """
    rows = np.flatnonzero(selected)
    n = min(n, len(rows))
    if n <= 0:
        return []
    if len(rows) <= exact_max:
        scores = np.asarray(vectors[rows], dtype=np.float32) @ query
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(rows[i]), float(scores[i])) for i in best]
    bitmap = np.packbits(selected, bitorder="little")
    chosen = faiss.IDSelectorBitmap(bitmap)
    params = faiss.SearchParametersIVF(sel=chosen, nprobe=index.nprobe) if isinstance(index, faiss.IndexIVF) \
        else faiss.SearchParameters(sel=chosen)
    scores, found = index.search(query.reshape(1, -1).astype(np.float32), n, params=params)
    return [(int(r), float(s)) for r, s in zip(found[0], scores[0]) if r >= 0]


def zscores(values: np.ndarray) -> np.ndarray:
    """(x - mean) / std; all zeros when the values do not vary (e.g. no keyword matched)."""
    values = np.asarray(values, dtype=np.float64)
    std = values.std()
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


PEAK_DEPTH = 50  # best keyword scores whose spread measures a peak


def keyword_peak(scores: np.ndarray, n: int = PEAK_DEPTH) -> float:
    """How far the best keyword score stands above the second, in standard deviations of the best ``n``."""
    if len(scores) < 2:
        return 0.0
    top = scores if len(scores) <= n else np.partition(scores, len(scores) - n)[-n:]
    best = np.sort(top)[::-1]
    std = float(best.std())
    return 0.0 if best[0] <= 0 or std <= 1e-9 else float(best[0] - best[1]) / std


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
        self.exact_max = config.exact_search_max
        # Filters: the article of every chunk and sentence row, read on the first one.
        self._rows_lock = threading.Lock()
        self._article_rows: tuple | None = None
        self.select = lru_cache(maxsize=32)(self._select)

    def _words_of(self, row: int) -> frozenset[str]:
        """Words of a sentence (exact, folded, lemmas): computed for the candidates of a question only."""
        s = self.generation.sentences[row]
        return frozenset(sentence_words(s.text, self.generation.articles[s.source].language))

    def _articles_of_rows(self) -> tuple:
        with self._rows_lock:
            if self._article_rows is None:
                self._article_rows = self.generation.articles.owners()
            return self._article_rows

    def _select(self, filter: Filter) -> Selection:
        rowids, articles, chunk_article, sentence_article = self._articles_of_rows()
        chosen = np.fromiter((filter.selects(source, date, url) for _, source, date, url in articles), dtype=bool,
                             count=len(articles))
        by_rowid = np.zeros(int(rowids.max(initial=0)) + 1, dtype=bool)
        by_rowid[rowids[chosen]] = True
        return Selection(int(chosen.sum()), by_rowid[chunk_article], by_rowid[sentence_article])

    def chunk_row(self, chunk_id: str) -> int:
        return self.generation.chunks.row_of(chunk_id)

    def chunk_sentences(self, c_row: int) -> tuple[int, ...]:
        """Rows of the sentences overlapping a chunk: the candidates inside a passage."""
        c = self.generation.chunks[c_row]
        return self.generation.sentences.in_span(c.source, c.start, c.end)

    def passages(self, query: KeywordQuery, query_vector: np.ndarray, config: Config,
                 k: int | None = None, carried: Carried | None = None,
                 selection: Selection | None = None) -> list[Hit]:
        """The top ``k`` passages (default ``config.k``) by ``config.retrieval``: hybrid, dense or keyword.

        ``carried`` adds earlier turns of a conversation (``query_vector`` then already mixes them in).
        ``selection`` (``select(filter)``): only its passages are searched and ranked.
        """
        mode, k = config.retrieval, k or config.k
        n = max(config.candidates, k)
        if mode == "keyword":
            dense = []
        elif selection is None:
            dense = search(self.chunk_index, query_vector, n)
        else:
            dense = search_selected(self.chunk_index, self.generation.chunk_vectors, query_vector, n,
                                    selection.chunks, self.exact_max)
        keyword_scores = None
        if mode != "dense":
            keyword_scores = self.generation.chunk_keywords.scores(query)
            for earlier, weight in (carried.queries if carried else ()):
                keyword_scores = keyword_scores + weight * self.generation.chunk_keywords.scores(earlier)
            if selection is not None:
                keyword_scores = np.where(selection.chunks, keyword_scores, 0)  # top_rows keeps positive scores
        # One pass over every passage's keyword score gives both the candidates and the best
        # PEAK_DEPTH for the peak (BM25 scores are never negative: the rest count as zeros).
        best_keyword = top_rows(keyword_scores, max(n, PEAK_DEPTH)) if keyword_scores is not None else []
        keyword = best_keyword[:n]
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
            top = np.zeros(min(PEAK_DEPTH, len(keyword_scores)))
            values = [score for _, score in best_keyword[:len(top)]]
            top[:len(values)] = values
            peaked = config.keyword_peak > 0 and keyword_peak(top) >= config.keyword_peak
            weight = config.keyword_weight_peaked if peaked else config.keyword_weight
            fused = {r: float(d + weight * b) for r, d, b in zip(rows, dense_part, keyword_part)}
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

    def sentences(self, query: KeywordQuery, query_vector: np.ndarray, n: int,
                  selection: Selection | None = None) -> tuple[list[int], list[int]]:
        """Best sentence rows by dense similarity and by keywords, searched corpus-wide (small corpora only),
        or among the ``selection``'s sentences."""
        if not self.corpus_wide_sentences:
            return [], []
        if selection is None:
            dense = search(self.sentence_index, query_vector, n)
            keyword = self.generation.sentence_keywords.top(query, n)
        else:
            dense = search_selected(self.sentence_index, self.generation.sentence_vectors, query_vector, n,
                                    selection.sentences, self.exact_max)
            keyword = top_rows(np.where(selection.sentences, self.generation.sentence_keywords.scores(query), 0), n)
        return [r for r, _ in dense], [r for r, _ in keyword]
