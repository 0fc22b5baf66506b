"""Command line: ``python -m eval run|calibrate|xquad|select|ablation|bench|bench-scale|bench-build|bench-store|near-miss|calibration-plot|cross-lingual-shift|feedback|chat|suite``."""
from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "out"
GOLD = ROOT / "eval" / "gold" / "articles.jsonl"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="gold questions through the pipeline and the baselines")
    r.add_argument("--questions", type=Path, default=GOLD, help="gold JSON lines (default: %(default)s)")
    r.add_argument("--out", type=Path, default=OUT / "run", help="output folder (default: %(default)s)")
    r.add_argument("--corpus", type=Path, help="corpus folder to index (default: the project's)")
    r.add_argument("--index", type=Path, help="index folder, built/updated first (default: the project's)")
    r.add_argument("--system", choices=["ours", "bm25", "dense", "naive", "all"], default="all")
    r.add_argument("--split", choices=["dev", "test", "all"], default="all")
    r.add_argument("--limit", type=int, help="only the first N questions (quick runs)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    c = sub.add_parser("calibrate", help="choose the abstention thresholds on the dev split")
    c.add_argument("--questions", type=Path, default=GOLD)
    c.add_argument("--out", type=Path, default=OUT / "calibration.json", help="JSON written here")
    c.add_argument("--corpus", type=Path)
    c.add_argument("--index", type=Path)
    c.add_argument("--max-false-abstention", type=float, default=0.05,
                   help="constraint on the dev false-abstention rate, when reachable (default: %(default)s)")
    c.add_argument("-q", "--quiet", action="store_true")

    x = sub.add_parser("xquad", help="XQuAD: 240 paragraphs as the corpus (vi, en or both)")
    x.add_argument("--context-lang", choices=["vi", "en", "mixed"], default="vi",
                   help="the corpus: Vietnamese, English or both paragraph sets (default: %(default)s)")
    x.add_argument("--question-lang", choices=["vi", "en"], default="vi")
    x.add_argument("--split", choices=["dev", "test", "all"], default="all",
                   help="dev = articles 0-23 (tune here), test = 24-47 (report here)")
    x.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="change a Config field for this run, e.g. lexicon_keyword=false (repeatable)")
    x.add_argument("--name", help="variant name appended to the run's tag")
    x.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "xquad")
    x.add_argument("--out", type=Path, default=OUT / "xquad")
    x.add_argument("--index-root", type=Path, default=OUT, help="corpus and index folders, cached between runs")
    x.add_argument("--limit", type=int, help="N questions evenly spread over the set")
    x.add_argument("-q", "--quiet", action="store_true")

    a = sub.add_parser("ablation", help="the lexicon's stages on/off: XQuAD three directions + gold questions")
    a.add_argument("--split", choices=["dev", "test"], default="test")
    a.add_argument("--questions", type=Path, default=GOLD)
    a.add_argument("--set", action="append", metavar="FIELD=VALUE", help="Config change for every variant")
    a.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "xquad")
    a.add_argument("--out", type=Path, default=OUT / "ablation")
    a.add_argument("--index-root", type=Path, default=OUT)
    a.add_argument("-q", "--quiet", action="store_true")

    s = sub.add_parser("select", help="answer-sentence selection inside the gold XQuAD paragraph")
    s.add_argument("--question-lang", nargs="+", choices=["vi", "en"], default=["vi", "en"])
    s.add_argument("--rerank-model", default="ours", help="cross-encoder: ours, or any CrossEncoder name or path")
    s.add_argument("--every", type=int, default=2, help="every Nth question (default %(default)s)")
    s.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "xquad")
    s.add_argument("--out", type=Path, default=OUT / "select.json")
    s.add_argument("-q", "--quiet", action="store_true")

    b = sub.add_parser("bench", help="end-to-end latency, build time, cold start, memory")
    b.add_argument("--questions", type=Path, default=GOLD)
    b.add_argument("--n", type=int, default=200, help="warm questions (gold cycled; default %(default)s)")
    b.add_argument("--out", type=Path, default=OUT, help="writes bench.json and bench.md here")
    b.add_argument("--skip-build", action="store_true", help="skip the fresh-build measurement")
    b.add_argument("--skip-cold", action="store_true", help="skip the start-up measurements (CLI and app)")
    b.add_argument("-q", "--quiet", action="store_true")
    f = sub.add_parser("feedback", help="turn the chat's votes into gold-question candidates to review")
    f.add_argument("--log", type=Path, default=None,
                   help="feedback log (default: FEEDBACK_LOG or feedback/feedback.jsonl)")
    f.add_argument("--out", type=Path, default=OUT / "feedback-candidates.jsonl")
    from .bench_build import add_parser as add_bench_build  # no model or FAISS until run
    from .bench_scale import add_parser as add_bench_scale
    from .bench_store import add_parser as add_bench_store
    from .calibration_plot import add_parser as add_calibration_plot
    from .chat import add_parser as add_chat
    from .cross_lingual import add_parser as add_cross_lingual
    from .near_miss import add_parser as add_near_miss
    from .suite import add_parser as add_suite

    add_bench_scale(sub)
    add_bench_build(sub)
    add_bench_store(sub)
    add_near_miss(sub)
    add_calibration_plot(sub)
    add_cross_lingual(sub)
    add_chat(sub)
    add_suite(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "run":
        from .run import cmd_run

        return cmd_run(args)
    if args.command == "calibrate":
        from .calibrate import cmd_calibrate

        return cmd_calibrate(args)
    if args.command == "xquad":
        from .xquad import cmd_xquad

        return cmd_xquad(args)
    if args.command == "select":
        from .select import cmd_select

        return cmd_select(args)
    if args.command == "ablation":
        from .ablation import cmd_ablation

        return cmd_ablation(args)
    if args.command == "feedback":
        from index import Config

        from .feedback import cmd_feedback

        args.log = args.log or Config.from_env().feedback_log
        return cmd_feedback(args)
    if args.command in ("bench-scale", "bench-build", "bench-store", "near-miss", "calibration-plot",
                        "cross-lingual-shift", "chat", "suite"):
        return args.func(args)
    from .bench import cmd_bench

    return cmd_bench(args)
