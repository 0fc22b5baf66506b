"""``python -m eval run``: gold questions through the app's pipeline and the baselines."""
from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from index import Config, Engine, prepare

from . import report as rpt
from .gold import GROUPS, GoldQuestion, load_gold
from .scoring import Row, make_row, summarise, sweep
from .systems import SYSTEMS, make_systems, thresholds

WARMUP = "Hội thảo diễn ra ở đâu?"


def prepare_engine(corpus: Path | None, index: Path | None, progress: bool = True, **changes) -> Engine:
    """Build (or update) the index of ``corpus`` into ``index`` and load it (defaults: the project's);
    ``changes`` override Config fields."""
    return prepare(Config.from_env(corpus_dir=corpus, index_dir=index, **changes), progress=progress)


def answer_all(engine: Engine, questions: list[GoldQuestion], names: list[str],
               progress: bool = True) -> tuple[list[dict], list[Row]]:
    """Every question through every system (one warm-up question each, not recorded)."""
    systems = make_systems(engine, names, progress=False)
    records, rows = [], []
    for name, system in systems.items():
        system.ask(WARMUP)
        for q in tqdm(questions, desc=name, disable=not progress, file=sys.stderr):
            record = system.ask(q.question, q.id)
            records.append(record)
            rows.append(make_row(record, q, system.relevant_passages(q)))
    return records, rows


def splits_of(questions: list[GoldQuestion], split: str) -> list[str]:
    present = sorted({q.split for q in questions if q.split})
    if split != "all" or not present:
        return [split]
    return [s for s in ("test", "dev") if s in present] + ["all"]


def checks(records: list[dict], rows: list[Row]) -> dict:
    """Invariants and oddities worth reporting (language detection, ranking prefix)."""
    mism = [{"id": r.gold.id, "gold_lang": r.gold.lang, "detected": r.language, "question": r.gold.question}
            for r in rows if r.system == "ours" and r.language and r.language != r.gold.lang]
    return {
        "verbatim_failures": [rec.get("id") for rec in records if not rec["eval"]["verbatim"]],
        "ranking_prefix_mismatches": [rec.get("id") for rec in records if not rec["eval"]["ranking_prefix_ok"]],
        "language_mismatches": mism,
    }


def misses(records: list[dict], rows: list[Row], system: str = "ours") -> list[dict]:
    out = []
    for rec, row in zip(records, rows):
        if row.system != system:
            continue
        g = row.gold
        wrong = (g.answerable and not (row.hit_if_answered and not row.abstained)) or \
                (not g.answerable and not row.abstained)
        if not wrong:
            continue
        would = rec["eval"]["would_answer"] or {}
        out.append({"id": g.id, "split": g.split, "group": g.group, "question": g.question,
                    "gold": list(g.answers), "gold_source": g.source, "abstained": row.abstained,
                    "best_score": row.best, "language": row.language,
                    "source": would.get("source"), "quote": would.get("quote"),
                    "highlight": would.get("highlight_text"),
                    "kind": ("false abstention" if g.answerable and row.abstained and row.hit_if_answered
                             else "abstained, and wrong anyway" if g.answerable and row.abstained
                             else "wrong answer" if g.answerable else "answered an unanswerable question")})
    return out


def write_report(path: Path, meta: dict, summaries: dict, systems: list[str], chk: dict,
                 missed: list[dict]) -> None:
    groups = list(GROUPS)
    parts = [f"# Evaluation report\n\n`{meta['command']}` — {meta['date']}\n",
             f"Questions: `{meta['questions']}` ({meta['n_questions']}); corpus `{meta['corpus_dir']}`; "
             f"index `{meta['index_dir']}`; model `{meta['model_id']}`.\n",
             f"Scorer: {meta.get('scorer', 'hand')} (cross-encoder: {meta.get('rerank_model', 'none')}); "
             f"thresholds: vi {meta['thresholds']['vi']:.4g}, en {meta['thresholds']['en']:.4g}. "
             "Groups: `vi` = accented Vietnamese, `unaccented` = Vietnamese typed without diacritics, "
             "`en` = English; `all` = every question.\n",
             "Hit rate: answerable questions whose first citation is the gold article and whose quote "
             "contains a gold answer (abstaining counts as a miss). Span EM/F1: the highlighted span "
             "(whole quote for F1 when there is none, EM 0) against the gold answers, over the answerable "
             "questions that were answered. Abstention precision/recall: on unanswerable questions; false "
             "abstention: share of answerable questions abstained. Accuracy: (answered correctly + "
             "abstained correctly) / all. Retrieval (ranx, answerable questions): `src` ranks articles "
             "(deduplicated passages), `psg` ranks passages; a relevant passage is one of the gold article "
             "containing a gold span (R@k = share of relevant passages in the top k, hit@k = at least one). "
             "The naive baseline uses its own 1,000-character chunks.\n"]
    for split, summary in summaries.items():
        parts.append(f"\n## Split: {split}\n\n### Answers\n\n" + rpt.answer_table(summary, systems, groups))
        parts.append("\n\n### Retrieval (%)\n\n" + rpt.retrieval_table(summary, systems, groups))
        parts.append("\n\n### Latency (ms, all questions)\n\n" + rpt.latency_table(summary, systems))
    parts.append("\n\n## Plots\n\n![threshold sweep](threshold_sweep.png)\n\n![latency](latency.png)\n")
    parts.append("\n## Checks\n\n"
                 f"- citations not verbatim: {len(chk['verbatim_failures'])} {chk['verbatim_failures'][:10]}\n"
                 f"- depth-10 ranking not extending the answer's passages: "
                 f"{len(chk['ranking_prefix_mismatches'])}\n"
                 f"- detected language differs from the gold language (ours): {len(chk['language_mismatches'])}\n")
    for m in chk["language_mismatches"]:
        parts.append(f"  - {m['id']} gold {m['gold_lang']} detected {m['detected']}: {m['question']}\n")
    parts.append(f"\n## Misses of `ours` ({len(missed)})\n\n")
    for m in missed:
        quote = (m["quote"] or "").replace("\n", " ")
        parts.append(f"- **{m['id']}** ({m['split']}, {m['group']}, {m['kind']}, best {fmt_score(m['best_score'])}) "
                     f"{m['question']}\n  - gold: {m['gold']} in `{m['gold_source']}`\n"
                     f"  - quote from `{m['source']}`: {quote[:300]}"
                     + (f"\n  - highlight: {m['highlight']}" if m["highlight"] else "") + "\n")
    path.write_text("".join(parts), encoding="utf-8")


def fmt_score(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def cmd_run(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    systems = list(SYSTEMS) if args.system == "all" else [args.system]
    questions = load_gold(args.questions, args.split)
    if args.limit:
        questions = questions[:args.limit]
    if not questions:
        print("no questions", file=sys.stderr)
        return 1
    engine = prepare_engine(args.corpus, args.index, progress=not args.quiet)
    t0 = time.perf_counter()
    records, rows = answer_all(engine, questions, systems, progress=not args.quiet)
    with open(out / "results.jsonl", "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    cfg = engine.config
    current = thresholds(engine)
    summaries = {}
    for split in splits_of(questions, args.split):
        chosen = [r for r in rows if split == "all" or r.gold.split == split]
        summaries[split] = summarise(chosen, systems)
    pipeline = [s for s in systems if s != "naive"]
    sweeps = {s: {lang: sweep([r for r in rows if r.system == s], lang, current) for lang in ("vi", "en")}
              for s in pipeline}
    chk = checks(records, rows)
    missed = misses(records, rows) if "ours" in systems else []
    meta = {
        "command": "python -m eval " + " ".join(sys.argv[1:]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "questions": str(args.questions), "n_questions": len(questions), "split": args.split,
        "corpus_dir": str(cfg.corpus_dir), "index_dir": str(cfg.index_dir), "model_id": engine.model_id,
        "scorer": cfg.scorer, "rerank_model": cfg.rerank_model,
        "thresholds": current, "k": cfg.k, "seconds": round(time.perf_counter() - t0, 1),
    }
    (out / "summary.json").write_text(json.dumps(
        {"meta": meta, "summary": summaries, "sweeps": sweeps, "checks": chk, "misses": missed},
        ensure_ascii=False, indent=1), encoding="utf-8")
    write_report(out / "report.md", meta, summaries, systems, chk, missed)
    if "ours" in sweeps:
        rpt.plot_sweep(sweeps["ours"], current, out / "threshold_sweep.png",
                       f"ours: threshold sweep ({args.split} split, one pass)")
    rpt.plot_latency({s: [r.timings.get("total") for r in rows if r.system == s] for s in systems},
                     out / "latency.png", "end-to-end latency per question (warm)")
    first = next(iter(summaries))
    print(rpt.answer_table(summaries[first], systems, list(GROUPS)))
    print(f"\nwrote {out}/results.jsonl, summary.json, report.md, threshold_sweep.png, latency.png")
    return 0
