"""``python -m eval calibrate``: the hand-made score's abstention thresholds, chosen on the dev split.

(The learned scorer's threshold is fitted on held-out SQuAD by ``scripts/fit_combiner.py``.)

One pass over the gold questions with abstention disabled gives every question's
``best_score`` and the quote it would return; thresholds are then chosen jointly for
Vietnamese and English questions (by detected language, as the engine applies them)
to maximise answered-correct + abstained-correct on dev, subject to a false-abstention
rate <= 5 % when some pair reaches it. Ties go to fewer false abstentions, then to
more correct abstentions, then to the higher thresholds.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .gold import load_gold
from .report import fmt, table
from .run import answer_all, prepare_engine
from .scoring import Row, answer_metrics, threshold_candidates


def choose(rows: list[Row], max_false: float = 0.05) -> tuple[dict[str, float], dict, bool]:
    """(thresholds, dev metrics, constraint met) maximising correct decisions on ``rows``."""
    best = None
    for t_vi in threshold_candidates(rows, "vi") or [0.0]:
        for t_en in threshold_candidates(rows, "en") or [0.0]:
            th = {"vi": t_vi, "en": t_en}
            m = answer_metrics(rows, th)
            false = m["abstain_false_abstention"] or 0.0
            key = (false <= max_false + 1e-9, m["correct"], -false, m["abstain_recall"] or 0.0, t_vi + t_en)
            if best is None or key > best[0]:
                best = (key, th, m)
    return best[1], best[2], best[0][0]


def _line(name: str, m: dict) -> list:
    return [name, f"{m['n']} ({m['answerable']}/{m['unanswerable']})", fmt(m["hit_rate"], True),
            fmt(m["abstain_precision"], True), fmt(m["abstain_recall"], True),
            fmt(m["abstain_false_abstention"], True), fmt(m["accuracy"], True)]


def cmd_calibrate(args) -> int:
    questions = load_gold(args.questions)
    if not any(q.split == "dev" for q in questions):
        print("no dev split in the questions", file=sys.stderr)
        return 1
    engine = prepare_engine(args.corpus, args.index, progress=not args.quiet, scorer="hand")
    _, rows = answer_all(engine, questions, ["ours"], progress=not args.quiet)
    dev = [r for r in rows if r.gold.split == "dev"]
    test = [r for r in rows if r.gold.split == "test"]
    current = engine.config.thresholds()
    chosen, _, met = choose(dev, args.max_false_abstention)
    headers = ["split @ thresholds", "n (ans/unans)", "hit rate %", "abst. precision %", "abst. recall %",
               "false abst. %", "accuracy %"]
    lines = []
    for label, th in (("chosen", chosen), ("configured", current)):
        for split, rs in (("dev", dev), ("test", test)):
            lines.append(_line(f"{split} @ {label} (vi {th['vi']}, en {th['en']})", answer_metrics(rs, th)))
    print(f"abstain_threshold = {chosen['vi']}\nabstain_threshold_en = {chosen['en']}")
    if not met:
        print(f"note: no thresholds keep dev false abstention <= {args.max_false_abstention:.0%}; "
              "the best unconstrained pair is shown", file=sys.stderr)
    print(table(headers, lines))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "abstain_threshold": chosen["vi"], "abstain_threshold_en": chosen["en"],
        "constraint_met": met, "max_false_abstention": args.max_false_abstention, "configured": current,
        "dev": answer_metrics(dev, chosen), "test": answer_metrics(test, chosen),
        "dev_configured": answer_metrics(dev, current), "test_configured": answer_metrics(test, current),
        "scores": [{"id": r.gold.id, "split": r.gold.split, "language": r.language, "best": r.best,
                    "answerable": r.gold.answerable, "hit_if_answered": r.hit_if_answered} for r in rows],
    }, indent=1), encoding="utf-8")
    print(f"wrote {out}")
    return 0
