"""Wiring: question -> retrieval -> extraction -> ``Answer`` with citations."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from .config import Config
from .embedding import load_model
from .extract import build_quote, score_sentences
from .question import BadQuestion, Question, message, parse
from .retrieve import Retriever
from .store import Generation, load_generation
from .types import Answer

NOT_FOUND = {
    "vi": "Không tìm thấy câu trả lời trong các bài viết.",
    "en": "I could not find this in the articles.",
}
FOUND = {
    "vi": "Trích nguyên văn từ bài viết [1]:",
    "en": "Quoted verbatim from the article [1] (the articles are in Vietnamese):",
}


@dataclass
class Engine:
    """A loaded index generation with its model: everything ``answer`` needs."""

    config: Config
    generation: Generation
    retriever: Retriever
    model: object  # sentence_transformers.SentenceTransformer

    def embed_query(self, text: str) -> np.ndarray:
        vector = self.model.encode(text, prompt_name="query", normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vector, dtype=np.float32).reshape(-1)


def load(config: Config | None = None) -> Engine:
    """Load the live generation of ``config.index_dir`` and the model it was built with."""
    config = config or Config.from_env()
    generation = load_generation(config.index_dir)
    model = load_model(config)
    return Engine(config=config, generation=generation, retriever=Retriever(generation), model=model)


ECHO_LIMIT = 200  # characters of a rejected question echoed back


def rejected(question: object, bad: BadQuestion, config: Config, id: str | None = None,
             language: str | None = None) -> Answer:
    """The answer to a question that failed validation: the reason, in the user's language.

    The echoed question is shortened and made encodable (lone surrogates
    replaced) so the Answer JSON can always be serialised.
    """
    echo = question[:ECHO_LIMIT] if isinstance(question, str) else ""
    echo = echo.encode("utf-8", "replace").decode("utf-8")
    lang = language or bad.language
    return Answer(question=echo, language=lang, abstained=True, id=id, error=bad.code,
                  message=message(bad.code, lang, limit=config.max_question_chars))


def threshold(config: Config, language: str) -> float:
    return config.abstain_threshold if language == "vi" else config.abstain_threshold_en


def answer(engine: Engine, question: str, *, id: str | None = None,
           config: Config | None = None, language: str | None = None) -> Answer:
    """Answer one question with verbatim quotes, or abstain; never raises on bad input.

    ``language`` ("vi"/"en") forces the reply language instead of detecting it.
    """
    config = config or engine.config
    if language not in (None, "vi", "en"):
        raise ValueError(f"language must be 'vi' or 'en', not {language!r}")
    t0 = time.perf_counter()
    try:
        q: Question = parse(question, config.max_question_chars)
    except BadQuestion as bad:
        return rejected(question, bad, config, id=id, language=language)
    if language:
        q = replace(q, language=language)
    vector = engine.embed_query(q.text)
    t_embed = time.perf_counter()
    hits = engine.retriever.passages(q.keywords, vector, config.retrieval, config.k,
                                     config.candidates, config.rrf_k)
    extra: list[int] = []
    if config.retrieval == "hybrid":
        dense, keyword = engine.retriever.sentences(q.keywords, vector, config.candidates)
        extra = dense[:5] + keyword[:5]
    t_search = time.perf_counter()
    scored = score_sentences(q, vector, hits, engine.retriever, extra)
    quotes = []
    if scored and scored[0].score >= threshold(config, q.language):
        quote = build_quote(scored, engine.retriever, q)
        # A question asking for a date, number or name whose best quote holds
        # none is asking for a detail the articles do not state.
        if q.kind is None or quote.highlight_start is not None:
            quotes.append(quote)
    t_extract = time.perf_counter()
    return Answer(
        question=q.text,
        language=q.language,
        abstained=not quotes,
        message=FOUND[q.language] if quotes else NOT_FOUND[q.language],
        quotes=quotes,
        passages=hits,
        id=id,
        timings_ms={
            "embed": (t_embed - t0) * 1000,
            "search": (t_search - t_embed) * 1000,
            "extract": (t_extract - t_search) * 1000,
            "total": (t_extract - t0) * 1000,
        },
        best_score=scored[0].score if scored else None,
    )
