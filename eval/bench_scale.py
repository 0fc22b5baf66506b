"""``python -m eval bench-scale``: how far the vector side of the index goes, with no text encoding.

For each size N, N synthetic chunk vectors go to a temp ``.npy``; flat, hnsw (M=32, efConstruction
80), ivf (nlist ~ 4 sqrt(N)) and ivf-sq8 (the store's index, built by ``index.vector_index.build_ivf``
as ``python -m index build`` does) are each built, tuned (efSearch / nprobe to recall@10 >= 0.95;
ivf-sq8 to the store's 0.97) and written in one process, then loaded in a fresh one (sha256 +
``faiss.read_index``; flat: ``np.load`` mmap + add) for VmRSS, warm one-query search p50/p95 and
recall@10 against an exact search; then the embedding model is loaded too, for the RSS of a server.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from index.vector_index import EPS, exact_topk, noisy, recall_at_k, sample_queries

from .metrics import percentiles
from .report import _pyplot, fmt, table

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "out"
KINDS = ("flat", "hnsw", "ivf", "ivf-sq8")  # ivf-sq8: the store's own index (index/vector_index.py)
K, TARGET, WARMUP, BLOCK = 10, 0.95, 20, 65536
# 64 topics -> 4096 centres -> rows; noise norms relative to a unit vector (before renormalising).
TOPICS, CENTRES, TOPIC_NOISE, NOISE, QUERY_NOISE = 64, 4096, 1.0, 0.75, 0.5
TUNING = {"hnsw": ("efSearch", (16, 32, 64, 128, 256)), "ivf": ("nprobe", (1, 2, 4, 8, 16, 32, 64))}


def vector_blocks(n: int, dim: int, seed: int = 0, block: int = BLOCK):
    """Yield ``n`` x ``dim`` clustered unit float32 vectors, ``block`` rows at a time; same arguments, same rows."""
    rng = np.random.default_rng([seed, 0])
    topics = noisy(rng, np.zeros((TOPICS, dim), dtype=np.float32), 1.0)
    centres = noisy(rng, topics[rng.integers(TOPICS, size=CENTRES)], TOPIC_NOISE)
    for b, start in enumerate(range(0, n, block)):
        rng = np.random.default_rng([seed, 1, b])
        yield noisy(rng, centres[rng.integers(CENTRES, size=min(block, n - start))], NOISE)


def make_queries(vectors: np.ndarray, n: int, seed: int = 0, stream: int = 0) -> np.ndarray:
    """``n`` random rows of ``vectors`` plus noise, unit float32; ``stream`` 0 = search set, 1 = tuning set."""
    return sample_queries(vectors, n, seed, stream)


def _rss_mb() -> float | None:
    lines = status.read_text(encoding="ascii").splitlines() if (status := Path("/proc/self/status")).exists() else []
    return next((int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:")), None)


def _step(spec: dict, log) -> dict:
    """One step of one (size, index), alone in its process (``--one SPEC``); its results.

    "build": build from the .npy (timed), tune efSearch / nprobe, write the index; its sha256.
    "load": verify + load that file, VmRSS, warm one-query search p50/p95, recall@10.
    """
    import faiss

    from index.files import sha256_file
    from index.retrieve import flat_index, search

    # Builds use every core, as ``python -m index build`` does; searches use --threads, as the store.
    faiss.omp_set_num_threads(spec["threads"] if spec["step"] == "load" else os.cpu_count() or 1)
    folder, kind = Path(spec["dir"]), spec["kind"]
    path = folder / ("vectors.npy" if kind == "flat" else f"{kind}.faiss")
    vectors = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)  # mapped, not read
    if spec["step"] == "load":
        base, t = _rss_mb(), time.perf_counter()
        if sha256_file(path) != spec["sha256"]:
            raise SystemExit(f"bench-scale: {path.name} fails its checksum")
        verify_s = time.perf_counter() - t
        index = flat_index(np.load(path, mmap_mode="r", allow_pickle=False)) if kind == "flat" \
            else faiss.read_index(str(path))
        load_s, rss = time.perf_counter() - t, _rss_mb()
        if spec["param_name"]:
            faiss.ParameterSpace().set_index_parameter(index, spec["param_name"], spec["param_value"])
        queries, tune = np.load(folder / "queries.npy"), np.load(folder / "tune.npy")
        for q in tune[:WARMUP]:
            search(index, q, K)
        times, found = [], np.full((len(queries), K), -1, dtype=np.int64)
        for i, q in enumerate(queries):
            t = time.perf_counter()
            hits = search(index, q, K)
            times.append((time.perf_counter() - t) * 1000)
            found[i, :len(hits)] = [r for r, _ in hits]
        lat, kth = percentiles(times), np.load(folder / "kth.npy")[:len(queries)]
        recall = recall_at_k(found, queries, vectors, kth)
        rss_model = None
        if spec.get("with_model"):
            from index.embedding import load_default

            load_default().encode("câu hỏi", prompt_name="query")
            rss_model = _rss_mb()
        return {"verify_s": verify_s, "load_s": load_s, "rss_base_mb": base, "rss_mb": rss,
                "rss_with_model_mb": rss_model,
                "search_p50_ms": lat["p50"], "search_p95_ms": lat["p95"],
                "recall_at_10": recall}
    (n, dim), t = vectors.shape, time.perf_counter()
    nlist = max(1, min(round(4 * np.sqrt(n)), n // 40))  # k-means wants 39+ training rows per list
    if kind == "ivf-sq8":
        from index.vector_index import build_ivf

        index, info = build_ivf(vectors, log=log)
        build_s, t = time.perf_counter() - t, time.perf_counter()
        faiss.write_index(index, str(path))
        return {"build_s": build_s, "param_name": "nprobe", "param_value": info["nprobe"],
                "param": f"nlist={info['nlist']}, nprobe={info['nprobe']}", "tuned": True,
                "write_s": time.perf_counter() - t, "index_mb": path.stat().st_size / 2**20,
                "sha256": sha256_file(path)}
    if kind == "flat":
        index = flat_index(vectors)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    else:
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng([spec["seed"], 3]).choice(n, size=min(n, 40 * nlist), replace=False)
        index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    for start in range(0, n if kind != "flat" else 0, BLOCK):
        index.add(np.ascontiguousarray(vectors[start:start + BLOCK]))
    out = {"build_s": time.perf_counter() - t, "param_name": None, "param_value": None, "param": "exact",
           "tuned": True, "write_s": 0.0}
    if kind != "flat":
        tune, kth = np.load(folder / "tune.npy"), np.load(folder / "kth.npy")[spec["queries"]:]
        name, values = TUNING[kind]
        for value in [v for v in values if kind == "hnsw" or v <= nlist] or [nlist]:
            faiss.ParameterSpace().set_index_parameter(index, name, value)
            recall = recall_at_k(index.search(tune, K)[1], tune, vectors, kth)
            log(f"tuning {name}={value}: recall@10 {recall:.3f}")
            if recall >= TARGET:
                break
        out.update(param_name=name, param_value=value, tuned=recall >= TARGET,
                   param=(f"nlist={nlist}, " if kind == "ivf" else "") + f"{name}={value}")
        t = time.perf_counter()
        faiss.write_index(index, str(path))
        out["write_s"] = time.perf_counter() - t
    return {**out, "index_mb": path.stat().st_size / 2**20, "sha256": sha256_file(path)}


def _logger(quiet: bool, prefix: str = ""):
    return lambda msg: None if quiet else print(f"bench-scale: {prefix}{msg}", file=sys.stderr, flush=True)


def _child(spec: dict) -> dict:
    """Run one step (build, load) of one (size, index) in a fresh process; its JSON result."""
    env = {**os.environ, **{v: str(spec["threads"]) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}}
    proc = subprocess.run([sys.executable, "-m", "eval.bench_scale", "--one", json.dumps(spec)], cwd=ROOT,
                          env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"bench-scale: {spec['step']} of {spec['kind']} at N={spec['n']:,} failed (see above)")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_size(n: int, args, log) -> list[dict]:
    """The rows of one corpus size; vectors, queries and indexes live in a temp folder deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder, t = Path(tmp), time.perf_counter()
        vectors = np.lib.format.open_memmap(folder / "vectors.npy", mode="w+", dtype=np.float32, shape=(n, args.dim))
        for start, rows in zip(range(0, n, BLOCK), vector_blocks(n, args.dim, args.seed)):
            vectors[start:start + len(rows)] = rows
        vectors.flush()
        queries, tune = (make_queries(vectors, args.queries, args.seed, s) for s in (0, 1))
        np.save(folder / "queries.npy", queries)
        np.save(folder / "tune.npy", tune)
        log(f"N={n:,}: {n:,} x {args.dim} vectors and queries in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        np.save(folder / "kth.npy", exact_topk(vectors, np.concatenate([queries, tune]))[1][:, -1])
        log(f"N={n:,}: exact top-{K} of {2 * args.queries} queries in {time.perf_counter() - t:.1f} s")
        del vectors
        rows = []
        for kind in args.index:
            spec = {"dir": tmp, "kind": kind, "n": n, "queries": args.queries, "seed": args.seed,
                    "threads": args.threads, "quiet": args.quiet, "with_model": args.with_model}
            log(f"N={n:,} {kind}: build")
            built = _child({**spec, "step": "build"})
            log(f"N={n:,} {kind}: built in {built['build_s']:.2f} s ({built['param']}); load and search")
            row = {"n_chunks": n, "n_sentences": 0, "index": kind, **built, **_child({**spec, **built, "step": "load"})}
            log(f"N={n:,} {kind}: load {row['load_s']:.3f} s, RSS {row['rss_mb']:.0f} MB, "
                f"p50 {row['search_p50_ms']:.3f} ms, recall@10 {row['recall_at_10']:.3f}"
                + (f", RSS with the model {row['rss_with_model_mb']:.0f} MB" if row.get("rss_with_model_mb") else ""))
            rows.append(row)
            (folder / f"{kind}.faiss").unlink(missing_ok=True)
        return rows


def markdown(rows: list[dict], meta: dict) -> str:
    body = [[r["n_chunks"], r["n_sentences"], r["index"], r["param"] + ("" if r["tuned"] else " (target missed)"),
             fmt(r["build_s"], digits=2), fmt(r["load_s"], digits=3), fmt(r["rss_mb"], digits=0),
             fmt(r["rss_mb"] - r["rss_base_mb"] if r["rss_mb"] and r["rss_base_mb"] else None, digits=0),
             fmt(r["index_mb"], digits=0), fmt(r.get("rss_with_model_mb"), digits=0),
             fmt(r["search_p50_ms"], digits=3), fmt(r["search_p95_ms"], digits=3),
             fmt(r["recall_at_10"], digits=3)] for r in rows]
    return (f"# Vector index at scale\n\n`{meta['command']}` — {meta['date']} — {meta['machine']}\n\n"
            "**Chunk vectors only: n_sentences = 0.** Above `QA_SENTENCE_SEARCH_MAX` the store keeps no sentence "
            "index: sentence vectors stay in a memory-mapped file and only the candidates' rows are read. "
            "Synthetic clustered unit "
            f"vectors ({TOPICS} topics -> {CENTRES} centres -> rows), dim {meta['dim']}, no text encoding; "
            f"{meta['queries']} search queries (noisy corpus rows) and as many separate tuning queries.\n\n"
            + table(["chunks", "sentences", "index", "param", "build s", "load s", "RSS MB", "of which index MB",
                     "file MB", "RSS with model MB", "search p50 ms", "search p95 ms", "recall@10"], body)
            + "\n\nBuild: .npy to searchable index (ivf: k-means on a sample + add), tuning excluded except for "
            "ivf-sq8, timed as the store builds it (train, add, tune nprobe to recall@10 >= 0.97). Param: "
            f"smallest {' / '.join(f'{p} in {v}' for p, v in TUNING.values())} with recall@10 >= {TARGET} on the "
            "tuning queries. Load: sha256 check + `faiss.read_index` (flat: sha256 + `np.load(mmap_mode=\"r\")` + "
            "add, as the store). RSS: VmRSS of a fresh process (it imports the `index` package) right after the "
            "load; \"of which index\" subtracts the VmRSS before it; \"with model\" adds the default embedding "
            "model (ONNX) after one query. Search: one query at a time through "
            f"`index.retrieve.search`, k={K}, {meta['threads']} FAISS threads, after {WARMUP} warm-up queries. "
            f"Recall@10: against an exact search, a row within {EPS:g} of the exact 10th score counting (ties).\n")


def plot(rows: list[dict], path: Path) -> None:
    """Log-log: search p50 vs N and load time vs N, one line per index kind."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, label in ((axes[0], "search_p50_ms", "search p50 (ms, one query)"), (axes[1], "load_s", "load (s)")):
        for kind in KINDS:
            pts = [(r["n_chunks"], r[key]) for r in rows if r["index"] == kind and r[key]]
            if pts:
                ax.plot(*zip(*pts), "o-", label=kind)
        ax.set(xscale="log", yscale="log", xlabel="chunk vectors N", ylabel=label)
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cmd_bench_scale(args) -> int:
    """Run the benchmark for ``args`` (``add_parser``'s options); 0, or 2 if FAISS is missing or a size < 1,000.

    Writes ``bench-scale.json`` (a list of rows), ``bench-scale.md`` and ``bench-scale.png`` to ``args.out``.
    """
    try:
        import faiss
    except ImportError:
        print("error: bench-scale needs FAISS: .venv/bin/python -m pip install faiss-cpu", file=sys.stderr)
        return 2
    if any(n < 1000 for n in args.sizes):
        print(f"error: --sizes below 1,000 are refused: {[n for n in args.sizes if n < 1000]}", file=sys.stderr)
        return 2
    args.seed, args.threads = getattr(args, "seed", 0), getattr(args, "threads", 1)
    args.with_model = getattr(args, "with_model", True)
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "dim": args.dim,
            "queries": args.queries, "threads": args.threads,
            "command": f"python -m eval bench-scale --sizes {' '.join(map(str, args.sizes))} --dim {args.dim} "
                       f"--queries {args.queries} --index {' '.join(args.index)} --threads {args.threads}" + ("" if args.with_model else " --no-model"),
            "machine": f"Python {platform.python_version()}, FAISS {faiss.__version__}, {os.cpu_count()} CPUs "
                       f"(load average {os.getloadavg()[0]:.1f} at the start), {platform.platform()}"}
    rows = [row for n in args.sizes for row in run_size(n, args, _logger(args.quiet))]
    (out := Path(args.out)).mkdir(parents=True, exist_ok=True)
    (out / "bench-scale.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    (out / "bench-scale.md").write_text(md := markdown(rows, meta), encoding="utf-8")
    plot(rows, out / "bench-scale.png")
    print(md if not args.quiet else "", f"wrote {out}/bench-scale.json, bench-scale.md, bench-scale.png", sep="\n")
    return 0


def _arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                   help="corpus sizes in chunk vectors, each >= 1,000 (default: %(default)s)")
    p.add_argument("--dim", type=int, default=384, help="vector dimension (default: %(default)s)")
    p.add_argument("--queries", type=int, default=200, help="search (and tuning) queries (default: %(default)s)")
    p.add_argument("--index", nargs="+", choices=KINDS, default=list(KINDS), help="index kinds (default: all)")
    p.add_argument("--threads", type=int, default=1,
                   help="FAISS OpenMP threads (default: %(default)s, as the store searches)")
    p.add_argument("--no-model", dest="with_model", action="store_false",
                   help="skip loading the embedding model for the RSS of a server")
    p.add_argument("--out", type=Path, default=OUT, help="bench-scale.json/.md/.png go here (default: %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return p


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``bench-scale`` on ``sub`` (from ``add_subparsers()``); its parser, ``func`` in its defaults."""
    p = _arguments(sub.add_parser("bench-scale", help="vector index (flat/hnsw/ivf) build, load, memory and "
                                  "search vs corpus size, synthetic vectors"))
    p.set_defaults(func=cmd_bench_scale)
    return p


def main(argv: list[str] | None = None) -> int:
    p = _arguments(argparse.ArgumentParser(prog="python -m eval.bench_scale", description=__doc__,
                                           formatter_class=argparse.RawDescriptionHelpFormatter))
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: one step of one (size, index), a JSON spec
    args = p.parse_args(argv)
    if not args.one:
        return cmd_bench_scale(args)
    spec = json.loads(args.one)
    print(json.dumps(_step(spec, _logger(spec["quiet"], f"N={spec['n']:,} {spec['kind']}: "))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
