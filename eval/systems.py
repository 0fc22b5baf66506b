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

import numpy as np

from index import Engine, answer
from index.build import encode_passages
from index.query import keyword_query
from index.question import BadQuestion, detect_language, parse
from index.retrieve import flat_index, search
from index.types import Answer, Chunk, Hit, Quote

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
        # What would be quoted with no abstention: no hand threshold, and a learned probability >= 0 always passes.
        self.free = self.config.with_(abstain_threshold=NO_ABSTENTION, abstain_threshold_en=NO_ABSTENTION,
                                      answer_threshold=0.0)
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
        vector = self.engine.search_vector(self.engine.embed_query(q.text), q.language)
        k = max(depth, self.config.k)
        query = keyword_query(q, self.engine.generation.languages, self.config)
        hits = self.engine.retriever.passages(query, vector, self.config, k)
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
    """Fixed 1,000-character chunks, no overlap, dense top-1 chunk as the answer, no abstention.

    Built from the index package's own pieces (passage encoding, FAISS search,
    ``Chunk``/``Hit``/``Quote``/``Answer``); only the chunking and the answer rule differ.
    """

    name = "naive"

    def __init__(self, engine: Engine, cache: CachedEmbedder, size: int = 1000, progress: bool = False):
        self.engine, self.cache = engine, cache
        self.articles = engine.generation.articles
        self.chunks = [Chunk(id=self.chunk_id(source, start), source=source, text=article.text[start:start + size],
                             start=start, end=min(start + size, len(article.text)))
                       for source, article in self.articles.items()
                       for start in range(0, len(article.text), size)]
        self.index = flat_index(encode_passages(engine.model, [c.text for c in self.chunks], progress))

    @staticmethod
    def chunk_id(source: str, start: int) -> str:
        return f"{source}@{start}"

    def relevant_passages(self, gold: GoldQuestion) -> set[str]:
        answers = [normalize(a) for a in gold.answers]
        return {c.id for c in self.chunks if c.source == gold.source and any(x in normalize(c.text) for x in answers)}

    def answer(self, question: str, qid: str | None = None, depth: int = DEPTH) -> Answer:
        self.cache.clear()
        t0 = time.perf_counter()
        text = " ".join(question.split())
        vector = self.cache(text)
        t1 = time.perf_counter()
        hits = [Hit(chunk=self.chunks[r], score=s, dense_rank=rank)
                for rank, (r, s) in enumerate(search(self.index, vector, depth), 1)]
        t2 = time.perf_counter()
        quotes = []
        if hits:
            c = hits[0].chunk
            article = self.articles[c.source]
            quotes.append(Quote(source=c.source, title=article.title, date=article.date, text=c.text,
                                start=c.start, end=c.end, score=hits[0].score))
        return Answer(question=text, language=detect_language(text) if text else "en", abstained=not quotes,
                      message="", quotes=quotes, passages=hits, id=qid,
                      timings_ms={"embed": (t1 - t0) * 1000, "search": (t2 - t1) * 1000, "extract": 0.0,
                                  "total": (t2 - t0) * 1000},
                      best_score=hits[0].score if hits else None)

    def ask(self, question: str, qid: str | None = None, depth: int = DEPTH) -> dict:
        ans = self.answer(question, qid, depth)
        ranking = [h.chunk for h in ans.passages]
        ans.passages = ans.passages[:self.engine.config.k]
        record = ans.to_dict()
        record["system"] = self.name
        cite = record["citations"][0] if record["citations"] else None
        record["eval"] = {
            "would_answer": None if cite is None else {
                k: cite[k] for k in ("source", "quote", "start", "end")} | {"highlight_text": None},
            "highlight_text": None,
            "ranking": [c.id for c in ranking],
            "ranking_sources": list(dict.fromkeys(c.source for c in ranking)),
            "ranking_prefix_ok": True,
            "verbatim": verbatim(self.articles, record["citations"]),
        }
        return record


def thresholds(engine: Engine) -> dict[str, float]:
    """The abstention threshold the engine applies, per question language group."""
    if engine.config.scorer == "learned" and engine.scorer is not None:
        tau = engine.scorer.nominal_threshold(cross=engine.config.rerank_model != "none")
        return {"vi": tau, "en": tau}
    return engine.config.thresholds()


def make_systems(engine: Engine, names: list[str], progress: bool = False) -> dict:
    cache = engine.embed_query if isinstance(engine.embed_query, CachedEmbedder) else CachedEmbedder(engine)
    out = {}
    for name in names:
        out[name] = NaiveSystem(engine, cache, progress=progress) if name == "naive" \
            else PipelineSystem(engine, name, cache)
    return out
