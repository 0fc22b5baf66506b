"""The systems under evaluation: the app's pipeline and its variants, and a naive baseline.

``ours``, ``bm25`` and ``dense`` call ``index.answer`` exactly as the app does, with
``retrieval`` = hybrid / keyword / dense. Each question is answered once with the
configured thresholds (the record written to results.jsonl, with its timings) and
once more with abstention disabled, re-using the query vector, so that the quote the
pipeline *would* give is known: threshold sweeps and calibration then need no re-run
(the quote never depends on the threshold, only whether it is shown). The ranking at
depth 10 for retrieval metrics comes from the same retriever call with a larger ``k``;
its first ``k`` passages are the answer's passages.

``naive`` is what tutorials build: fixed 1,000-character chunks with no overlap, the
same embedding model, FAISS, and the top-1 chunk returned whole as the answer,
never abstaining.
"""
from __future__ import annotations

import time

import faiss
import numpy as np

from index import answer
from index.answer import Engine
from index.build import encode_passages
from index.embedding import load_model
from index.question import BadQuestion, parse

from .gold import GoldQuestion
from .metrics import normalize

SYSTEMS = ("ours", "bm25", "dense", "naive")
RETRIEVAL = {"ours": "hybrid", "bm25": "keyword", "dense": "dense"}
NO_ABSTENTION = -1e9
DEPTH = 10  # ranking depth for retrieval metrics


class CachedEmbedder:
    """Wraps ``engine.embed_query``: the second identical query re-uses the vector."""

    def __init__(self, engine: Engine):
        self.inner = engine.embed_query
        self.last: tuple[str, np.ndarray] | None = None
        engine.embed_query = self  # type: ignore[method-assign]

    def clear(self) -> None:
        self.last = None

    def __call__(self, text: str) -> np.ndarray:
        if self.last is None or self.last[0] != text:
            self.last = (text, self.inner(text))
        return self.last[1]


def _highlight_text(engine: Engine, citation: dict) -> str | None:
    h = citation.get("highlight")
    if not h:
        return None
    return engine.generation.articles[citation["source"]].text[h["start"]:h["end"]]


def verbatim(articles: dict, citations: list[dict]) -> bool:
    """Every citation's quote is exactly ``article_text[start:end]``."""
    return all(c["source"] in articles and articles[c["source"]].text[c["start"]:c["end"]] == c["quote"]
               for c in citations)


class PipelineSystem:
    """``index.answer`` with one retrieval mode."""

    def __init__(self, engine: Engine, name: str, cache: CachedEmbedder):
        self.engine, self.name, self.cache = engine, name, cache
        self.config = engine.config.with_(retrieval=RETRIEVAL[name])
        self.free = self.config.with_(abstain_threshold=NO_ABSTENTION, abstain_threshold_en=NO_ABSTENTION)
        self._chunks_by_source: dict[str, list] = {}
        for c in engine.generation.chunks:
            self._chunks_by_source.setdefault(c.source, []).append(c)

    def relevant_passages(self, gold: GoldQuestion) -> set[str]:
        answers = [normalize(a) for a in gold.answers]
        return {c.id for c in self._chunks_by_source.get(gold.source or "", [])
                if any(a in normalize(c.text) for a in answers)}

    def ranking(self, question: str, depth: int = DEPTH) -> list[dict]:
        """Passages at ``depth`` from the same retriever call the answer made (vector cached)."""
        try:
            q = parse(question, self.config.max_question_chars)
        except BadQuestion:
            return []
        vector = self.engine.embed_query(q.text)
        k = max(depth, self.config.k)
        hits = self.engine.retriever.passages(q.keywords, vector, self.config.retrieval, k,
                                              max(self.config.candidates, k), self.config.rrf_k)
        return [{"source": h.chunk.source, "chunk_id": h.chunk.id} for h in hits]

    def ask(self, question: str, qid: str | None = None, depth: int = DEPTH) -> dict:
        self.cache.clear()
        record = answer(self.engine, question, id=qid, config=self.config).to_dict()
        free = answer(self.engine, question, id=qid, config=self.free).to_dict()
        cite = free["citations"][0] if free["citations"] else None
        ranking = self.ranking(question, depth)
        record["system"] = self.name
        record["eval"] = {
            "would_answer": None if cite is None else {
                "source": cite["source"], "quote": cite["quote"], "start": cite["start"],
                "end": cite["end"], "highlight_text": _highlight_text(self.engine, cite)},
            "highlight_text": (_highlight_text(self.engine, record["citations"][0])
                               if record["citations"] else None),
            "ranking": [p["chunk_id"] for p in ranking],
            "ranking_sources": list(dict.fromkeys(p["source"] for p in ranking)),
            "ranking_prefix_ok": [p["chunk_id"] for p in ranking[:len(record["passages"])]]
                                 == [p["chunk_id"] for p in record["passages"]],
            "verbatim": verbatim(self.engine.generation.articles, record["citations"]),
        }
        return record


class NaiveSystem:
    """Fixed 1,000-character chunks, no overlap, dense top-1 chunk as the answer, no abstention."""

    name = "naive"

    def __init__(self, engine: Engine, cache: CachedEmbedder, size: int = 1000, progress: bool = False):
        self.engine, self.cache = engine, cache
        self.model = load_model(engine.config)
        self.articles = engine.generation.articles
        self.chunks: list[tuple[str, int, int]] = []
        for source, article in self.articles.items():
            for start in range(0, len(article.text), size):
                self.chunks.append((source, start, min(start + size, len(article.text))))
        texts = [self.articles[s].text[a:b] for s, a, b in self.chunks]
        vectors = encode_passages(self.model, texts, progress)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    @staticmethod
    def chunk_id(source: str, start: int) -> str:
        return f"{source}@{start}"

    def relevant_passages(self, gold: GoldQuestion) -> set[str]:
        answers = [normalize(a) for a in gold.answers]
        return {self.chunk_id(s, a) for s, a, b in self.chunks if s == gold.source
                and any(x in normalize(self.articles[s].text[a:b]) for x in answers)}

    def ask(self, question: str, qid: str | None = None, depth: int = DEPTH) -> dict:
        self.cache.clear()
        t0 = time.perf_counter()
        vector = self.cache(" ".join(question.split()))
        t1 = time.perf_counter()
        n = min(depth, self.index.ntotal)
        scores, rows = self.index.search(vector.reshape(1, -1), n)
        hits = [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
        t2 = time.perf_counter()
        passages = []
        for r, s in hits:
            source, a, b = self.chunks[r]
            passages.append({"source": source, "chunk_id": self.chunk_id(source, a), "start": a, "end": b,
                             "score": round(s, 4)})
        citations = []
        if hits:
            source, a, b = self.chunks[hits[0][0]]
            art = self.articles[source]
            citations.append({"n": 1, "source": source, "title": art.title, "date": art.date,
                              "quote": art.text[a:b], "start": a, "end": b, "score": round(hits[0][1], 4),
                              "highlight": None})
        record = {
            "id": qid, "question": question, "language": None, "abstained": not citations,
            "answer": citations[0]["quote"] if citations else "", "message": "",
            "citations": citations, "passages": passages[:self.engine.config.k],
            "best_score": round(hits[0][1], 4) if hits else None,
            "timings_ms": {"embed": (t1 - t0) * 1000, "search": (t2 - t1) * 1000, "extract": 0.0,
                           "total": (t2 - t0) * 1000},
            "system": self.name,
        }
        record["eval"] = {
            "would_answer": None if not citations else {
                k: citations[0][k] for k in ("source", "quote", "start", "end")} | {"highlight_text": None},
            "highlight_text": None,
            "ranking": [p["chunk_id"] for p in passages],
            "ranking_sources": list(dict.fromkeys(p["source"] for p in passages)),
            "ranking_prefix_ok": True,
            "verbatim": verbatim(self.articles, citations),
        }
        return record


def make_systems(engine: Engine, names: list[str], progress: bool = False) -> dict:
    cache = engine.embed_query if isinstance(engine.embed_query, CachedEmbedder) else CachedEmbedder(engine)
    out = {}
    for name in names:
        out[name] = NaiveSystem(engine, cache, progress=progress) if name == "naive" \
            else PipelineSystem(engine, name, cache)
    return out
