"""``python -m eval calibration-plot``: is the answer score a probability, and where does τ cut?

Left: reliability. XQuAD answerable questions (results of ``python -m eval
xquad``) are binned by their best score; each bin's share of quotes holding the
answer (had the engine not abstained) is plotted against the bin's mean score.
A calibrated scorer lies on the diagonal. Right: the score distributions of
those answerable questions and of near misses (``python -m eval near-miss``),
with the threshold: answerable mass left of it is false abstention, near-miss
mass right of it is a wrong answer.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .metrics import contains_answer
from .report import _pyplot
from .xquad import paragraphs_and_questions

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "out"


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def reliability(scores: np.ndarray, correct: np.ndarray, bins: int) -> list[dict]:
    """Equal-count bins: mean score, share correct, size."""
    order = np.argsort(scores)
    out = []
    for part in np.array_split(order, bins):
        if len(part):
            out.append({"score": float(scores[part].mean()), "correct": float(correct[part].mean()), "n": int(len(part))})
    return out


def cmd_calibration_plot(args) -> int:
    answers = {}
    for lang in ("vi", "en"):
        _, questions = paragraphs_and_questions(args.data, "vi", lang)
        answers.update({q["id"]: q["answers"] for q in questions})
    scores, correct, unquoted = [], [], 0
    for path in args.xquad:
        for r in _rows(path):
            would = (r.get("eval") or {}).get("would_answer")
            if r.get("best_score") is None or r["id"] not in answers:
                continue
            if not would:  # no quote even without the threshold (a typed question with no such span)
                unquoted += 1
                continue
            scores.append(r["best_score"])
            correct.append(contains_answer(would.get("quote", ""), answers[r["id"]]))
    misses = [r["best_score"] for path in args.near_miss for r in _rows(path) if r.get("best_score") is not None]
    if not scores:
        print("error: no scored XQuAD results in --xquad", file=sys.stderr)
        return 2
    scores, correct = np.asarray(scores, dtype=float), np.asarray(correct, dtype=float)
    table = reliability(scores, correct, args.bins)
    tau = args.threshold
    summary = {"answerable": len(scores), "answerable_without_a_quote": unquoted, "near_misses": len(misses), "threshold": tau, "reliability": table,
               "false_abstention": float((scores < tau).mean()) if tau is not None else None,
               "near_miss_abstained": float((np.asarray(misses) < tau).mean()) if tau is not None and misses else None,
               "xquad": [str(p) for p in args.xquad], "near_miss": [str(p) for p in args.near_miss]}
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot([0, 1], [0, 1], ":", color="grey", label="calibrated")
    left.plot([b["score"] for b in table], [b["correct"] for b in table], "o-", label="answerable questions")
    left.set(xlabel="best score (bin mean)", ylabel="quote holds the answer", title=args.title)
    left.legend()
    edges = np.linspace(min(scores.min(), min(misses, default=1)), max(scores.max(), max(misses, default=0)), 30)
    right.hist(scores, bins=edges, alpha=0.6, density=True, label=f"answerable (n={len(scores)})")
    if misses:
        right.hist(misses, bins=edges, alpha=0.6, density=True, label=f"near misses (n={len(misses)})")
    if tau is not None:
        right.axvline(tau, color="black", linestyle="--", label=f"τ = {tau:g}")
    right.set(xlabel="best score", ylabel="density")
    right.legend()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    plt.close(fig)
    args.out.with_suffix(".json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "reliability"}, indent=1))
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")
    return 0


def add_parser(sub):
    p = sub.add_parser("calibration-plot", help="reliability of the answer score and the threshold's cut (plot)")
    p.add_argument("--xquad", type=Path, nargs="+", required=True, help="results.*.jsonl of `eval xquad` runs")
    p.add_argument("--near-miss", type=Path, nargs="*", default=[], help="results.*.jsonl of `eval near-miss` runs")
    p.add_argument("--threshold", type=float, help="the τ to draw and count")
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--title", default="")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "xquad")
    p.add_argument("--out", type=Path, default=OUT / "calibration.png")
    p.set_defaults(func=cmd_calibration_plot)
    return p
