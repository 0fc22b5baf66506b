"""Wiring: question -> retrieval -> extraction -> ``Answer`` with citations."""
from __future__ import annotations

import time
from dataclasses import replace

from .config import Config
from .engine import Engine
from .extract import build_quote, score_sentences
from .query import coverage_groups, keyword_query
from .question import STOPWORDS, BadQuestion, Question, message, parse
from .types import Answer

NOT_FOUND = {
    "vi": "Không tìm thấy câu trả lời trong các bài viết.",
    "en": "I could not find this in the articles.",
}
# The reply's opening line, by (question language, language of the quoted article).
FOUND = {
    ("vi", "vi"): "Trích nguyên văn từ bài viết [1]:",
    ("vi", "en"): "Trích nguyên văn từ bài viết [1] (bài viết bằng tiếng Anh):",
    ("en", "vi"): "Quoted verbatim from the article [1] (the articles are in Vietnamese):",
    ("en", "en"): "Quoted verbatim from the article [1]:",
}


def found_message(language: str, article_language: str) -> str:
    return FOUND[("vi" if language == "vi" else "en", "en" if article_language == "en" else "vi")]


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


def _candidates(engine: Engine, q: Question, config: Config, t0: float):
    """(passages, hand-scored candidate sentences best first, time after embedding, time after search)."""
    vector = engine.embed_query(q.text)
    t_embed = time.perf_counter()
    languages = engine.generation.languages
    query = keyword_query(q, languages, config)
    hits = engine.retriever.passages(query, vector, config)
    extra: list[int] = []
    if config.retrieval == "hybrid":
        dense, keyword = engine.retriever.sentences(query, vector, config.candidates)
        n = config.sentence_candidates
        extra = dense[:n] + keyword[:n]
    t_search = time.perf_counter()
    groups = coverage_groups(q, languages, config, STOPWORDS)
    return hits, score_sentences(q, vector, hits, engine.retriever, extra, config, groups), t_embed, t_search


def candidates(engine: Engine, q: Question, config: Config | None = None):
    """(passages, candidate sentences with their hand-made features, best first), before any learned scorer."""
    hits, scored, _, _ = _candidates(engine, q, config or engine.config, time.perf_counter())
    return hits, scored


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
    hits, scored, t_embed, t_search = _candidates(engine, q, config, t0)
    threshold = config.threshold(q.language)
    scorer = engine.scorer if config.scorer == "learned" else None
    if scorer is not None and scored:
        scored = scorer.rescore(q, scored, engine.retriever, config)
        threshold = scorer.threshold(scored[0]) if config.answer_threshold < 0 else config.answer_threshold
    quotes = []
    if scored and scored[0].score >= threshold:
        quote = build_quote(scored, engine.retriever, q, config)
        # A question asking for a date, number or name whose best quote holds
        # none is asking for a detail the articles do not state.
        if q.kind is None or quote.highlight_start is not None or not config.require_typed_answer:
            quotes.append(quote)
    t_extract = time.perf_counter()
    return Answer(
        question=q.text,
        language=q.language,
        abstained=not quotes,
        message=(found_message(q.language, engine.generation.articles[quotes[0].source].language) if quotes
                 else NOT_FOUND[q.language]),
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
