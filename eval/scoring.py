"""Per-question outcomes of a run and their aggregation by group and threshold."""
from __future__ import annotations

from dataclasses import dataclass, field

from index.config import threshold_group

from .gold import GROUPS, GoldQuestion
from .metrics import abstention, is_hit, mean, percentiles, retrieval, span_scores

STAGES = ("embed", "search", "extract", "total")


@dataclass
class Row:
    """One question answered by one system."""

    gold: GoldQuestion
    system: str
    language: str | None  # detected by the engine; selects the threshold
    best: float | None
    abstained: bool  # as the pipeline answered with its configured thresholds
    answered: bool  # a quote exists when abstention is disabled
    hit_if_answered: bool
    em: float
    f1: float
    verbatim: bool
    timings: dict
    ranking: list[str]
    ranking_sources: list[str]
    relevant_passages: set[str] = field(default_factory=set)

    def abstains_at(self, thresholds: dict[str, float] | None) -> bool:
        """Abstention at other thresholds (None: as answered). The naive baseline never abstains."""
        if thresholds is None or self.system == "naive":
            return self.abstained
        if not self.answered or self.best is None:
            return True
        return self.best < thresholds[threshold_group(self.language)]


def make_row(record: dict, gold: GoldQuestion, relevant_passages: set[str]) -> Row:
    ev = record["eval"]
    would = ev["would_answer"]
    if would is not None and gold.answerable:
        hit = is_hit(False, would["quote"], would["source"], gold.answers, gold.source)
        em, f1 = span_scores(would["highlight_text"], would["quote"], gold.answers)
    else:
        hit, em, f1 = False, 0.0, 0.0
    return Row(gold=gold, system=record["system"], language=record.get("language"),
               best=record.get("best_score"), abstained=bool(record["abstained"]),
               answered=would is not None, hit_if_answered=hit, em=em, f1=f1,
               verbatim=bool(ev["verbatim"]), timings=record.get("timings_ms", {}),
               ranking=ev["ranking"], ranking_sources=ev["ranking_sources"],
               relevant_passages=relevant_passages)


def answer_metrics(rows: list[Row], thresholds: dict[str, float] | None = None) -> dict:
    """Hit rate, span EM/F1 (answered answerable questions), abstention, accuracy."""
    if not rows:
        return {"n": 0, "answerable": 0, "unanswerable": 0, "hit_rate": None, "hits": 0, "em": None,
                "f1": None, "accuracy": None, "correct": 0, "abstain_precision": None,
                "abstain_recall": None, "abstain_false_abstention": None, "abstain_abstention_rate": None}
    abst = [r.abstains_at(thresholds) for r in rows]
    answerable = [r.gold.answerable for r in rows]
    hits = [r.hit_if_answered and not a for r, a in zip(rows, abst) if r.gold.answerable]
    answered = [r for r, a in zip(rows, abst) if r.gold.answerable and not a]
    correct = sum(hits) + sum(1 for r, a in zip(rows, abst) if not r.gold.answerable and a)
    out = {
        "n": len(rows),
        "answerable": sum(answerable),
        "unanswerable": len(rows) - sum(answerable),
        "hit_rate": None if not hits else sum(hits) / len(hits),
        "hits": sum(hits),
        "em": mean(r.em for r in answered),
        "f1": mean(r.f1 for r in answered),
        "accuracy": correct / len(rows),
        "correct": correct,
    }
    out.update({f"abstain_{k}": v for k, v in abstention(answerable, abst).items()})
    return out


def retrieval_metrics(rows: list[Row]) -> dict:
    answerable = [r for r in rows if r.gold.answerable]
    return {
        "source": retrieval({r.gold.id: {r.gold.source} for r in answerable},
                            {r.gold.id: r.ranking_sources for r in answerable}),
        "passage": retrieval({r.gold.id: r.relevant_passages for r in answerable},
                             {r.gold.id: r.ranking for r in answerable}),
    }


def latency(rows: list[Row]) -> dict:
    return {s: percentiles([r.timings.get(s) for r in rows]) for s in STAGES}


def summarise(rows: list[Row], systems: list[str], groups=GROUPS, with_retrieval: bool = True) -> dict:
    """summary[system][group] = answer metrics + retrieval + latency + verbatim rate."""
    out: dict = {}
    for system in systems:
        mine = [r for r in rows if r.system == system]
        out[system] = {}
        for group in groups:
            g = [r for r in mine if r.gold.in_group(group)]
            m = answer_metrics(g)
            cited = [r for r in g if not r.abstained]
            m["verbatim_rate"] = None if not cited else sum(r.verbatim for r in cited) / len(cited)
            if with_retrieval:
                m["retrieval"] = retrieval_metrics(g)
            m["latency_ms"] = latency(g)
            out[system][group] = m
    return out


def threshold_candidates(rows: list[Row], language: str) -> list[float]:
    """Midpoints between consecutive best scores of ``language`` (vi | en) rows, plus one
    below and one above all of them: every distinct abstention decision appears once."""
    scores = sorted({r.best for r in rows if r.best is not None and threshold_group(r.language) == language})
    if not scores:
        return []
    return [round(scores[0] - 0.01, 4)] + [round((a + b) / 2, 4) for a, b in zip(scores, scores[1:])] \
        + [round(scores[-1] + 0.01, 4)]


def sweep(rows: list[Row], language: str, other: dict[str, float]) -> list[dict]:
    """Metrics of the rows whose detected language is ``language`` (vi | en) as its threshold varies."""
    mine = [r for r in rows if threshold_group(r.language) == language]
    out = []
    for t in threshold_candidates(mine, language):
        m = answer_metrics(mine, dict(other, **{language: t}))
        m["threshold"] = t
        out.append(m)
    return out
