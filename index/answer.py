"""Wiring: question -> retrieval -> extraction -> ``Answer`` with citations."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from .config import Config
from .conversation import CURRENT_WEIGHT, BadHistory, FollowUp, Turn, follow_up
from .engine import Engine
from .extract import build_quote, score_sentences
from .query import coverage_groups, keyword_query
from .question import STOPWORDS, BadQuestion, Question, content_words, message, parse
from .retrieve import Carried, Selection
from .types import Answer, BadFilter, Filter

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


# Said first when the answer is quoted below the answer threshold (or lacks the asked detail).
LOW_CONFIDENCE = {"vi": "Độ tin cậy thấp: đoạn trích có thể không trả lời câu hỏi.",
                  "en": "Low confidence: the quote may not answer the question."}


def found_message(language: str, article_language: str, confidence: str = "high") -> str:
    found = FOUND[("vi" if language == "vi" else "en", "en" if article_language == "en" else "vi")]
    return found if confidence == "high" else f"{LOW_CONFIDENCE['vi' if language == 'vi' else 'en']} {found}"


def graded_quotes(scored: list, retriever, q: Question, config: Config, threshold: float,
                  learned: bool) -> tuple[list, str | None]:
    """(quotes best first, confidence): the answer and up to ``config.max_citations - 1`` others.

    The best sentence is quoted when it reaches the lower threshold (``threshold`` x
    ``config.low_confidence_ratio``): "high" confidence from ``threshold`` on, else "low". A
    when/how-many/who/where question whose quote holds no such span (``config.require_typed_answer``)
    may ask for a detail the articles do not state: it is "low" from the learned probability
    ``config.typed_miss_threshold`` on, and abstains below it (always, with the hand-made score).
    The others come from other passages, in score order, each reaching the lower threshold,
    never overlapping a quote already given.
    """
    lower = threshold * config.low_confidence_ratio if threshold > 0 else threshold
    if not scored or scored[0].score < lower:
        return [], None
    best = scored[0]
    first = build_quote(scored, retriever, q, config, learned=learned)
    typed = q.kind is None or first.highlight_start is not None or not config.require_typed_answer
    if not typed and not (learned and best.score >= config.typed_miss_threshold):
        return [], None
    sentences = retriever.generation.sentences
    quotes = [replace(first, probability=best.score if learned else None)]
    passages = {sentences[best.row].chunk_id}
    for s in scored[1:]:
        if len(quotes) >= config.max_citations:
            break
        if s.score < lower or sentences[s.row].chunk_id in passages:
            continue
        quote = build_quote(scored, retriever, q, config, best=s, learned=learned)
        if any(o.source == quote.source and o.start < quote.end and quote.start < o.end for o in quotes):
            continue
        quotes.append(replace(quote, probability=s.score if learned else None))
        passages.add(sentences[s.row].chunk_id)
    return quotes, "high" if best.score >= threshold and typed else "low"


# Said after the reply when a conversation's history was longer than QA_HISTORY_TURNS.
TRIMMED = {
    "vi": "(Chỉ dùng {n} lượt hỏi gần nhất của cuộc trò chuyện.)",
    "en": "(Only the last {n} turns of the conversation were used.)",
}
ECHO_LIMIT = 200  # characters of a rejected question echoed back

# A filter that cannot be applied, or that selects no article: the question is not searched.
FILTER_MESSAGES = {
    "bad_filter": {
        "vi": "Bộ lọc không hợp lệ: {detail}. Ngày viết dạng YYYY-MM-DD; nguồn là mã bài viết hoặc tên miền.",
        "en": "The filter is invalid: {detail}. Dates are YYYY-MM-DD; sources are article ids or domains.",
    },
    "empty_selection": {
        "vi": "Không có bài viết nào khớp với bộ lọc ({filter}).",
        "en": "No article matches the filter ({filter}).",
    },
}
FILTER_WORDS = {"vi": ("từ", "đến", "nguồn"), "en": ("since", "until", "sources")}


def describe_filter(filter: Filter, language: str) -> str:
    """The filter in a few words of ``language``: "since 2024-01-01, sources: vnexpress.net"."""
    since, until, sources = FILTER_WORDS["vi" if language == "vi" else "en"]
    parts = [f"{since} {filter.since}"] if filter.since else []
    parts += [f"{until} {filter.until}"] if filter.until else []
    parts += [f"{sources}: {', '.join(filter.sources)}"] if filter.sources else []
    return ", ".join(parts)


def filter_message(code: str, language: str, detail: str = "", filter: Filter | None = None) -> str:
    return FILTER_MESSAGES[code]["vi" if language == "vi" else "en"].format(
        detail=detail, filter=describe_filter(filter, language) if filter else "")


def filter_rejected(q: Question, bad: BadFilter, id: str | None = None) -> Answer:
    """The answer to a valid question asked with a filter that cannot be read."""
    return Answer(question=q.text, language=q.language, abstained=True, id=id, error="bad_filter",
                  message=filter_message("bad_filter", q.language, detail=str(bad)))


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


def _carried(engine: Engine, vector: np.ndarray, plan: FollowUp, history: list[Turn], config: Config):
    """The passage-search vector mixing in the earlier questions, and their keyword queries and boosts."""
    mixed = CURRENT_WEIGHT * vector
    queries = []
    for i, weight in plan.turns:
        try:
            earlier = parse(history[i].question, config.max_question_chars)
        except BadQuestion:
            continue
        mixed = mixed + weight * engine.embed_earlier_query(earlier.text)
        queries.append((keyword_query(earlier, engine.generation.languages, config), weight / CURRENT_WEIGHT))
    norm = float(np.linalg.norm(mixed))
    return (mixed / norm if norm else vector), Carried(tuple(queries), plan.boosts)


def _candidates(engine: Engine, q: Question, config: Config, t0: float,
                plan: FollowUp | None = None, history: list[Turn] = (), selection: Selection | None = None):
    """(passages, hand-scored candidate sentences best first, time after embedding, time after search).

    A follow-up's ``plan`` shapes which passages are searched; the sentences (and the passages'
    similarity feature, whose fitted weight is negative) are still scored against the current
    question alone. ``selection``: only these articles are searched.
    """
    vector = engine.embed_query(q.text)
    search_vector, carried = (vector, None) if plan is None else _carried(engine, vector, plan, history, config)
    search_vector = engine.search_vector(search_vector, q.language)
    t_embed = time.perf_counter()
    languages = engine.generation.languages
    query = keyword_query(q, languages, config)
    hits = engine.retriever.passages(query, search_vector, config, carried=carried, selection=selection)
    extra: list[int] = []
    # A follow-up's own words lack its subject: sentences found corpus-wide by them alone are not
    # candidates (on the synthetic XQuAD dev conversations they cost 2.6 points of follow-up hits, vi and en).
    if config.retrieval == "hybrid" and plan is None:
        dense, keyword = engine.retriever.sentences(query, vector, config.candidates, selection)
        n = config.sentence_candidates
        extra = dense[:n] + keyword[:n]
    t_search = time.perf_counter()
    groups = coverage_groups(q, languages, config, STOPWORDS)
    scored = score_sentences(q, vector, hits, engine.retriever, extra, config, groups)
    return hits, scored, t_embed, t_search


def candidates(engine: Engine, q: Question, config: Config | None = None):
    """(passages, candidate sentences with their hand-made features, best first), before any learned scorer."""
    hits, scored, _, _ = _candidates(engine, q, config or engine.config, time.perf_counter())
    return hits, scored


def _threshold(scorer, best, q: Question, config: Config) -> float:
    """What the best candidate's score must reach to be quoted: the learned scorer's probability
    threshold (as calibrated unless ``config.answer_threshold`` sets one), else the hand-made score's."""
    if scorer is None:
        return config.threshold(q.language)
    return scorer.threshold(best) if config.answer_threshold < 0 else config.answer_threshold


def _lean_on_history(scored: list, q: Question, plan: FollowUp, turns: list[Turn], engine: Engine,
                     config: Config) -> list:
    """Candidates reordered with a nudge towards sentences naming what the earlier questions named.

    "Bà ấy đã phát biểu gì?" after a question about Singapore's minister: of two sentences about
    an opening speech, the one that names the minister wins a near tie. The nudge is small, so
    a sentence that answers the current question clearly better keeps its place.
    """
    carried = set().union(*(content_words(turns[i].question) for i, _ in plan.turns)) - content_words(q.text)
    if not carried or not config.history_sentence_weight:
        return scored
    share = {s.row: len(carried & engine.retriever.words_of(s.row)) / len(carried) for s in scored}
    return sorted(scored, key=lambda s: -(s.score + config.history_sentence_weight * share[s.row]))


def prefer_typed(scored: list, q: Question, config: Config) -> list:
    """Candidates with the best one holding the asked span first, when it scores within
    ``config.typed_margin`` of a best one that does not ("o dau": the sentence saying "tại Hà Nội"
    over the one naming only the organiser)."""
    if not scored or q.kind is None or scored[0].typed:
        return scored
    for i, s in enumerate(scored[1:], 1):
        if s.score < scored[0].score - config.typed_margin:
            break
        if s.typed:
            return [s] + scored[:i] + scored[i + 1:]
    return scored


def parse_history(history: list | None, limit: int) -> tuple[list[Turn], int]:
    """(the last ``limit`` turns, how many earlier ones were dropped); raises ``BadHistory``."""
    if history is None:
        return [], 0
    if not isinstance(history, (list, tuple)):
        raise BadHistory(f"history must be a list of earlier turns, not {type(history).__name__}")
    turns = [Turn.parse(entry, n) for n, entry in enumerate(history, 1)]
    return turns[-limit:], max(0, len(turns) - limit)


def answer(engine: Engine, question: str, *, id: str | None = None,
           config: Config | None = None, language: str | None = None, history: list | None = None,
           since=None, until=None, sources=None) -> Answer:
    """Answer one question with verbatim quotes, or abstain; never raises on bad input.

    ``language`` ("vi"/"en") forces the reply language instead of detecting it. ``history``:
    the conversation's earlier turns, oldest first (questions, Answer JSON objects or ``Turn``);
    it helps find the article of a follow-up such as "What did she say?", while the quote is
    still chosen for the current question. Only the last ``config.history_turns`` are read.

    ``since`` / ``until`` (``YYYY-MM-DD`` or ``datetime.date``, inclusive) and ``sources`` (article
    ids or domains, one or a list) restrict the search to those articles (``Filter``) before
    anything is ranked. A filter that cannot be read is answered with ``error == "bad_filter"``,
    one that selects no article with ``error == "empty_selection"``, each with a message.
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
    try:
        selected = Filter.of(since, until, sources)
    except BadFilter as bad:
        return filter_rejected(q, bad, id)
    selection = engine.retriever.select(selected) if selected.active else None
    if selection is not None and not selection.articles:
        return Answer(question=q.text, language=q.language, abstained=True, id=id, error="empty_selection",
                      message=filter_message("empty_selection", q.language, filter=selected), filter=selected)
    try:
        turns, dropped = parse_history(history, config.history_turns)
    except BadHistory as bad:
        rejection = rejected(question, BadQuestion("bad_history", q.language), config, id=id, language=language)
        return replace(rejection, message=f"{rejection.message} {bad}")
    plan = follow_up(q.text, q.language, turns, config.history_boost)
    hits, scored, t_embed, t_search = _candidates(engine, q, config, t0, plan, turns, selection)
    scorer = engine.scorer if config.scorer == "learned" else None
    if scorer is not None:
        scored = scorer.rescore(q, scored, engine.retriever, config)
    if plan is not None:
        scored = _lean_on_history(scored, q, plan, turns, engine, config)
    scored = prefer_typed(scored, q, config)
    threshold = _threshold(scorer, scored[0], q, config) if scored else 0.0
    quotes, confidence = graded_quotes(scored, engine.retriever, q, config, threshold, scorer is not None)
    t_extract = time.perf_counter()
    reply = (found_message(q.language, engine.generation.articles[quotes[0].source].language, confidence)
             if quotes else NOT_FOUND[q.language])
    if dropped:
        reply += " " + TRIMMED["vi" if q.language == "vi" else "en"].format(n=len(turns))
    return Answer(
        question=q.text,
        language=q.language,
        abstained=not quotes,
        message=reply,
        quotes=quotes,
        passages=hits,
        id=id,
        context=plan.context(turns) if plan else [],
        filter=selected,
        confidence=confidence,
        timings_ms={
            "embed": (t_embed - t0) * 1000,
            "search": (t_search - t_embed) * 1000,
            "extract": (t_extract - t_search) * 1000,
            "total": (t_extract - t0) * 1000,
        },
        best_score=scored[0].score if scored else None,
    )
