"""``python -m eval bench-build``: encoding throughput of a build, and what a 10,000-article archive costs.

The corpus is split as ``python -m index build`` splits it; its passages and
sentences are encoded through the build's resumable path, here (one process,
every core) and on Ray (``QA_RAY_ENCODERS`` single-threaded actors), each into
a fresh shard folder. Throughput per text kind gives the estimate for an
archive of ``--articles`` articles of the same shape, with and without sentence vectors.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from index.chunking import split_articles
from index.config import Config
from index.corpus import load_corpus
from index.encode import encode_local, plan

from .report import fmt, table, write_report

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "out"


def _timed_local(model, texts: list[str], config: Config) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        t = time.perf_counter()
        encode_local(model, texts, plan(Path(tmp), "bench", texts, config.encode_shard_size),
                     config.encode_batch_size, False, lambda m: None)
        return time.perf_counter() - t


def _timed_ray(texts: list[str], config: Config) -> tuple[float, float]:
    """(seconds including the actors' start and model load, seconds of a second, warm run)."""
    import ray

    from index.encode_ray import encode_ray

    try:
        runs = []
        for _ in range(2):
            with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
                t = time.perf_counter()
                encode_ray(texts, plan(Path(tmp), "bench", texts, config.encode_shard_size),
                           config.with_(index_dir=Path(tmp)), 384, False, lambda m: None)
                runs.append(time.perf_counter() - t)
        return runs[0], runs[1]
    finally:
        ray.shutdown()


def cmd_bench_build(args) -> int:
    from index.embedding import load_model

    config = Config.from_env(corpus_dir=args.corpus)
    articles, _ = load_corpus(config.corpus_dir)
    if not articles:
        print(f"error: no articles in {config.corpus_dir}", file=sys.stderr)
        return 2
    parts = split_articles(articles, config)
    chunks = [c.text for _, cs, _ in parts for c in cs]
    sentences = [s.text for _, _, ss in parts for s in ss]
    model = load_model(config)
    model.encode(["warm-up"], prompt_name="passage")
    log = (lambda m: None) if args.quiet else (lambda m: print(f"bench-build: {m}", file=sys.stderr, flush=True))
    log(f"{len(articles)} articles: {len(chunks)} passages, {len(sentences)} sentences")
    local_chunks = _timed_local(model, chunks, config)
    log(f"local: passages alone {len(chunks) / local_chunks:.1f} texts/s")
    local_all = _timed_local(model, chunks + sentences, config)
    log(f"local: passages and sentences {(len(chunks) + len(sentences)) / local_all:.1f} texts/s")
    rows = [{"engine": "local (1 process, all cores)", "texts": len(chunks) + len(sentences),
             "seconds": local_all, "passage_s": local_chunks}]
    if "ray" in args.engines:
        cold, warm = _timed_ray(chunks + sentences, config)
        log(f"ray: {cold:.1f} s cold, {warm:.1f} s warm")
        rows.append({"engine": f"ray ({config.ray_encoders} actors x 1 thread), warm", "texts": len(chunks) + len(sentences),
                     "seconds": warm, "passage_s": warm * local_chunks / local_all, "cold_s": cold})
    per_article = {"passages": len(chunks) / len(articles), "sentences": len(sentences) / len(articles)}
    for r in rows:
        r["texts_per_s"] = r["texts"] / r["seconds"]
        r["hours_10k"] = args.articles / len(articles) * r["seconds"] / 3600
        r["hours_10k_no_sentence_vectors"] = args.articles / len(articles) * r["passage_s"] / 3600
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "corpus": str(args.corpus),
            "articles": len(articles), "per_article": per_article, "model": model.__class__.__name__,
            "command": f"python -m eval bench-build --corpus {args.corpus} --engines {' '.join(args.engines)}",
            "machine": f"Python {platform.python_version()}, {os.cpu_count()} CPUs (load average "
                       f"{os.getloadavg()[0]:.1f} at the end)"}
    body = [[r["engine"], r["texts"], fmt(r["seconds"], digits=1), fmt(r["texts_per_s"], digits=1),
             fmt(r["hours_10k"], digits=2), fmt(r["hours_10k_no_sentence_vectors"], digits=2)] for r in rows]
    md = (f"# Build encoding throughput\n\n`{meta['command']}` — {meta['date']} — {meta['machine']}\n\n"
          f"{len(articles)} articles: {per_article['passages']:.1f} passages and {per_article['sentences']:.1f} "
          "sentences per article.\n\n"
          + table(["engine", "texts", "seconds", "texts/s", f"hours for {args.articles:,} articles",
                   "same, passages only"], body)
          + "\n\nEstimate: this corpus's encoding time scaled by article count (same shape of article). "
            "\"Passages only\" is the build without sentence vectors: the passages encoded alone (Ray: the "
            "same share of its time as here).\n")
    write_report(args.out, "bench-build", {"meta": meta, "rows": rows}, md)
    return 0


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("bench-build", help="build encoding throughput (local and Ray) and a 10k-article estimate")
    p.add_argument("--corpus", type=Path, default=OUT / "xquad-corpus-vi",
                   help="articles to encode (default: %(default)s, made by `python -m eval xquad`)")
    p.add_argument("--engines", nargs="+", choices=["local", "ray"], default=["local", "ray"])
    p.add_argument("--articles", type=int, default=10_000, help="archive size to estimate (default: %(default)s)")
    p.add_argument("--out", type=Path, default=OUT, help="bench-build.json/.md go here")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_bench_build)
    return p
