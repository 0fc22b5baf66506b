"""The answer threshold τ read across the suite's corpora: abstention and hits at each τ, per corpus.

The learned scorer withholds an answer whose probability is below τ (and, apart from τ, a
typed answer lacking its span below ``Config.typed_miss_threshold``). For each question of
``ours`` the suite records the probability of the best sentence and what would be quoted with
τ = 0 (``free_abstained``, ``free_hit``), so the effect of any τ is read off exactly, without
asking again. ``fit_threshold`` takes the largest τ that keeps false abstention within the budget
on every answerable corpus at once, not on one.
"""
from __future__ import annotations

import numpy as np

from .report import fmt, table

GRID = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5)
BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0001)
FALSE_ABSTENTION_BUDGET = 0.05


def outcome(verdict: dict, probability: float | None, tau: float) -> tuple[bool, bool]:
    """(abstained, hit) of one question had τ been ``tau``."""
    if verdict.get("free_abstained", True) or probability is None or probability < tau:
        return True, False
    return False, bool(verdict.get("free_hit"))


def at(records: list[dict], tau: float) -> dict:
    """False abstention, hit and abstention on unanswerable questions at ``tau``."""
    answerable = [r for r in records if r["suite"]["kind"] == "answerable"]
    unanswerable = [r for r in records if r["suite"]["kind"] == "unanswerable"]
    ans = [outcome(r["suite"], r.get("best_score"), tau) for r in answerable]
    una = [outcome(r["suite"], r.get("best_score"), tau)[0] for r in unanswerable]
    return {"false_abstention": float(np.mean([a for a, _ in ans])) if ans else None,
            "hit": float(np.mean([h for _, h in ans])) if ans else None,
            "abstained_unanswerable": float(np.mean(una)) if una else None}


def reliability(records: list[dict]) -> list[dict]:
    """Answerable questions quoted with τ = 0, by probability: how often the quote hits."""
    rows = [(r["best_score"], bool(r["suite"].get("free_hit"))) for r in records
            if r["suite"]["kind"] == "answerable" and not r["suite"].get("free_abstained", True)
            and r.get("best_score") is not None]
    out = []
    for low, high in zip(BINS, BINS[1:]):
        inside = [(p, h) for p, h in rows if low <= p < high]
        out.append({"bin": f"{low:.1f}-{min(high, 1.0):.1f}", "n": len(inside),
                    "mean_probability": float(np.mean([p for p, _ in inside])) if inside else None,
                    "hit": float(np.mean([h for _, h in inside])) if inside else None})
    return out


def fit_threshold(by_corpus: dict[str, list[dict]], budget: float = FALSE_ABSTENTION_BUDGET,
                  step: float = 0.001) -> float:
    """The largest τ (in ``step``s) with false abstention <= ``budget`` on every answerable corpus."""
    answerable = {n: rs for n, rs in by_corpus.items() if any(r["suite"]["kind"] == "answerable" for r in rs)}
    best = 0.0
    for tau in np.arange(0.0, 1.0, step):
        if all(at(rs, float(tau))["false_abstention"] <= budget for rs in answerable.values()):
            best = float(tau)
        else:
            break
    return round(best, 4)


def calibration(by_corpus: dict[str, list[dict]], tau: float | None) -> dict:
    """Per corpus, abstention and hits along ``GRID`` (and at the engine's ``tau``), the reliability bins,
    and the τ fitted across all of them."""
    grid = sorted(set(GRID) | ({tau} if tau is not None else set()))
    return {"tau": tau, "budget": FALSE_ABSTENTION_BUDGET, "fitted_tau": fit_threshold(by_corpus),
            "grid": grid,
            "corpora": {name: {"at": {str(t): at(rs, t) for t in grid}, "reliability": reliability(rs)}
                        for name, rs in by_corpus.items()}}


def calibration_report(cal: dict) -> str:
    """Markdown: the fitted τ, abstention along the grid, reliability per corpus."""
    grid = cal["grid"]
    lines = ["\n## Calibration of τ (ours)\n",
             f"τ applied: {fmt(cal['tau'], digits=4)}; fitted across the corpora below (largest τ with false "
             f"abstention ≤ {cal['budget']:.0%} on every answerable one): **{cal['fitted_tau']:.3f}**. Each cell: "
             "false abstention % / hit % on answerable questions, and abstention % on unanswerable ones "
             "(unanswerable and near misses), had τ been the column's value.\n"]
    rows = []
    for name, c in cal["corpora"].items():
        cells = []
        for t in grid:
            m = c["at"][str(t)]
            cells.append(f"{fmt(m['false_abstention'], True)} / {fmt(m['hit'], True)}"
                         if m["false_abstention"] is not None else fmt(m["abstained_unanswerable"], True))
        rows.append([name] + cells)
    lines.append(table(["corpus"] + [f"τ={t:.3g}" for t in grid], rows))
    lines.append("\nReliability (answerable questions quoted at τ = 0, by the best sentence's probability): "
                 "questions, mean probability, hit %.\n")
    bins = [b["bin"] for b in next(iter(cal["corpora"].values()))["reliability"]] if cal["corpora"] else []
    rows = [[name] + [f"{b['n']}: {fmt(b['mean_probability'], digits=2)} → {fmt(b['hit'], True)}" if b["n"] else "–"
                      for b in c["reliability"]] for name, c in cal["corpora"].items()]
    lines.append(table(["corpus"] + bins, rows))
    return "\n".join(lines) + "\n"
