"""Command line: ``python -m eval run|calibrate|xquad|bench`` (``--help`` on each)."""
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

    x = sub.add_parser("xquad", help="XQuAD: 240 Vietnamese paragraphs as the corpus")
    x.add_argument("--context-lang", choices=["vi"], default="vi")
    x.add_argument("--question-lang", choices=["vi", "en"], default="vi")
    x.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "xquad")
    x.add_argument("--out", type=Path, default=OUT / "xquad")
    x.add_argument("--index", type=Path, default=OUT / "xquad-index", help="cached between runs")
    x.add_argument("--limit", type=int, help="N questions evenly spread over the set")
    x.add_argument("-q", "--quiet", action="store_true")

    b = sub.add_parser("bench", help="end-to-end latency, build time, cold start, memory")
    b.add_argument("--questions", type=Path, default=GOLD)
    b.add_argument("--n", type=int, default=200, help="warm questions (gold cycled; default %(default)s)")
    b.add_argument("--out", type=Path, default=OUT, help="writes bench.json and bench.md here")
    b.add_argument("--skip-build", action="store_true", help="skip the fresh-build measurement")
    b.add_argument("--skip-cold", action="store_true", help="skip the cold-start subprocess")
    b.add_argument("-q", "--quiet", action="store_true")
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
    from .bench import cmd_bench

    return cmd_bench(args)
