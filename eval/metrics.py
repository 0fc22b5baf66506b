"""Metrics with no model: answer matching, span EM/F1, abstention, retrieval (ranx), latency.

Every function takes plain Python data so that it can be tested on tiny cases.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

# --- answer text ---------------------------------------------------------------


def normalize(text: str) -> str:
    """NFC + casefold + whitespace collapsed (the gold-matching rule of the contract)."""
    return " ".join(unicodedata.normalize("NFC", text or "").casefold().split())


def contains_answer(quote: str, answers: Iterable[str]) -> bool:
    """True when the normalised quote contains one of the normalised gold answers."""
    q = normalize(quote)
    return any(normalize(a) and normalize(a) in q for a in answers)


def is_hit(abstained: bool, quote: str, source: str | None, answers: Sequence[str],
           gold_source: str | None) -> bool:
    """Correct answer: not abstained, the quote contains a gold answer, first citation = gold source."""
    return bool(answers) and not abstained and source == gold_source and contains_answer(quote, answers)


def span_tokens(text: str) -> list[str]:
    """SQuAD-style tokens: normalised, punctuation removed (no English article removal:
    the answers are Vietnamese)."""
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in normalize(text))
    return text.split()


def exact_match(prediction: str, gold: str) -> float:
    return float(span_tokens(prediction) == span_tokens(gold))


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = span_tokens(prediction), span_tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def span_scores(highlight: str | None, quote: str, answers: Sequence[str]) -> tuple[float, float]:
    """(EM, F1), max over the gold answers, of the highlighted span.

    Without a highlight the whole quote is scored for F1 and EM is 0.
    """
    if not answers:
        return 0.0, 0.0
    if highlight is None:
        return 0.0, max(token_f1(quote, a) for a in answers)
    return (max(exact_match(highlight, a) for a in answers),
            max(token_f1(highlight, a) for a in answers))


# --- abstention ----------------------------------------------------------------


def abstention(answerable: Sequence[bool], abstained: Sequence[bool]) -> dict[str, float | None]:
    """Precision/recall of abstaining on unanswerable questions; false-abstention rate on answerable.

    ``precision`` = unanswerable among the abstentions, ``recall`` = abstentions among the
    unanswerable, ``false_abstention`` = abstentions among the answerable (None when undefined).
    """
    pairs = list(zip(answerable, abstained))
    abst = [a for a, x in pairs if x]
    unans = [x for a, x in pairs if not a]
    ans = [x for a, x in pairs if a]
    return {
        "precision": None if not abst else sum(1 for a in abst if not a) / len(abst),
        "recall": None if not unans else sum(unans) / len(unans),
        "false_abstention": None if not ans else sum(ans) / len(ans),
        "abstention_rate": None if not pairs else len(abst) / len(pairs),
    }


# --- retrieval (ranx) ------------------------------------------------------------

RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "hit_rate@1", "hit_rate@5", "mrr", "ndcg@10")


def retrieval(relevant: dict[str, set[str]], rankings: dict[str, Sequence[str]],
              metrics: Sequence[str] = RETRIEVAL_METRICS) -> dict[str, float] | None:
    """Mean retrieval metrics through ranx over the queries that have a relevant document.

    ``relevant``: query id -> relevant doc ids; ``rankings``: query id -> doc ids best first
    (duplicates keep their first rank). Returns None when no query has a relevant document.
    """
    from ranx import Qrels, Run, evaluate  # slow import (numba): only when needed

    qids = [q for q, rel in relevant.items() if rel]
    if not qids:
        return None
    qrels = Qrels({q: {d: 1 for d in relevant[q]} for q in qids})
    run_dict: dict[str, dict[str, float]] = {}
    for q in qids:
        ranked = list(dict.fromkeys(rankings.get(q, [])))
        # Scores from ranks so that ranx keeps exactly this order; a placeholder for empty runs.
        run_dict[q] = {d: float(len(ranked) - i) for i, d in enumerate(ranked)} or {"\x00none": 0.0}
    scores = evaluate(qrels, Run(run_dict), list(metrics), make_comparable=True)
    if isinstance(scores, float | np.floating):
        scores = {metrics[0]: scores}
    out = {m: float(v) for m, v in scores.items()}
    out["n"] = len(qids)
    return out


# --- latency ---------------------------------------------------------------------


def percentiles(values: Sequence[float], qs: Sequence[int] = (50, 95)) -> dict[str, float | None]:
    vals = [v for v in values if v is not None]
    if not vals:
        return {f"p{q}": None for q in qs}
    return {f"p{q}": float(np.percentile(vals, q)) for q in qs}


def ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else a / b


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return None if not vals else float(sum(vals) / len(vals))


