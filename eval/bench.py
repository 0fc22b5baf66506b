"""``python -m eval bench``: end-to-end latency, build time, cold start and memory.

* warm latency: >= 200 questions (the gold questions cycled) through ``index.answer``,
  p50/p95 of embed/search/extract/total, next to the bare ``engine.embed_query``
  time on the same questions in the same process (total/embed ratio);
* the naive baseline's latency in the same run;
* build: a fresh index of the project corpus in a temp dir (``force=True``) vs
  encoding the same chunk and sentence texts directly with the model;
* cold start: a new Python process importing ``index``, loading and answering once;
* peak RSS of this process and of the cold-start child (``resource.getrusage``).
"""
from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from index import Config, build
from index.build import encode_passages
from index.chunking import chunk_article, make_splitter, sentences_of
from index.corpus import load_corpus
from index.embedding import load_model

from .gold import load_gold
from .metrics import percentiles, ratio
from .report import fmt, table
from .run import WARMUP, prepare_engine
from .systems import make_systems

COLD = """
import json, time
t0 = time.perf_counter()
from index import load, answer
t1 = time.perf_counter()
engine = load()
t2 = time.perf_counter()
a = answer(engine, {question!r})
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "first_answer_s": t3 - t2,
                   "abstained": a.abstained}}))
"""


def _stages(timings: list[dict]) -> dict:
    return {s: percentiles([t.get(s) for t in timings]) for s in ("embed", "search", "extract", "total")}


def warm(engine, questions: list[str], progress: bool) -> dict:
    systems = make_systems(engine, ["ours", "naive"])
    ours, naive = systems["ours"], systems["naive"]
    cache = engine.embed_query
    from index import answer

    answer(engine, WARMUP)
    timings, bare, naive_t = [], [], []
    for q in tqdm(questions, desc="warm answers", disable=not progress, file=sys.stderr):
        cache.clear()
        timings.append(answer(engine, q).timings_ms)
    for q in tqdm(questions, desc="bare embed", disable=not progress, file=sys.stderr):
        t = time.perf_counter()
        cache.inner(" ".join(q.split()))
        bare.append((time.perf_counter() - t) * 1000)
    for q in tqdm(questions, desc="naive", disable=not progress, file=sys.stderr):
        naive_t.append(naive.ask(q)["timings_ms"])
    del ours
    out = {"n": len(questions), "ours": _stages(timings), "bare_embed": percentiles(bare),
           "naive": _stages(naive_t)}
    out["ratio_total_over_embed"] = {p: ratio(out["ours"]["total"][p], out["bare_embed"][p]) for p in ("p50", "p95")}
    return out


def build_time(progress: bool) -> dict:
    cfg = Config.from_env()
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        fresh = cfg.with_(index_dir=Path(tmp) / "index")
        t = time.perf_counter()
        result = build(fresh, force=True, progress=False, log=lambda m: None)
        total = time.perf_counter() - t
    articles, _ = load_corpus(cfg.corpus_dir)
    splitter = make_splitter(cfg.chunk_size, cfg.chunk_overlap)
    texts = []
    for article in articles:
        chunks = chunk_article(article, splitter)
        texts += [c.text for c in chunks] + [s.text for s in sentences_of(article, chunks)]
    model = load_model(cfg)
    t = time.perf_counter()
    encode_passages(model, texts, progress=False)
    encode = time.perf_counter() - t
    return {"build_s": total, "build_stages_s": result.seconds, "texts": len(texts),
            "articles": result.articles, "chunks": result.chunks, "sentences": result.sentences,
            "pure_encode_s": encode, "ratio_build_over_encode": ratio(total, encode)}


def cold_start(question: str) -> dict:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", COLD.format(question=question)], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parent.parent)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    inner = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, **inner,
            "child_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def cmd_bench(args) -> int:
    gold = [q.question for q in load_gold(args.questions)]
    questions = [gold[i % len(gold)] for i in range(max(args.n, 1))]
    progress = not args.quiet
    engine = prepare_engine(None, None, progress=progress)
    result = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "command": "python -m eval " + " ".join(sys.argv[1:]),
              "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count(),
                          "platform": platform.platform()},
              "warm": warm(engine, questions, progress)}
    if not args.skip_build:
        result["build"] = build_time(progress)
    if not args.skip_cold:
        result["cold_start"] = cold_start(gold[0])
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    md = markdown(result)
    (out / "bench.md").write_text(md, encoding="utf-8")
    print(md)
    print(f"wrote {out}/bench.json, bench.md")
    return 0


def markdown(r: dict) -> str:
    w = r["warm"]
    rows = []
    for name, st in (("ours (index.answer)", w["ours"]), ("naive baseline", w["naive"])):
        rows.append([name] + [fmt(st[s][p]) for s in ("embed", "search", "extract", "total") for p in ("p50", "p95")])
    rows.append(["bare engine.embed_query", fmt(w["bare_embed"]["p50"]), fmt(w["bare_embed"]["p95"])] + [""] * 6)
    parts = [f"# Benchmark\n\n`{r['command']}` — {r['date']} — Python {r['machine']['python']}, "
             f"{r['machine']['cpus']} CPUs\n",
             f"## Warm latency (ms, {w['n']} questions, gold set cycled)\n",
             table(["", "embed p50", "embed p95", "search p50", "search p95", "extract p50", "extract p95",
                    "total p50", "total p95"], rows),
             f"\nTotal / bare embed: p50 {fmt(w['ratio_total_over_embed']['p50'], digits=2)}×, "
             f"p95 {fmt(w['ratio_total_over_embed']['p95'], digits=2)}×.\n"]
    if "build" in r:
        b = r["build"]
        parts.append("## Build (fresh index of the project corpus, --force)\n\n" + table(
            ["articles", "chunks", "sentences", "build s", "of which encode s", "pure encode of the same texts s",
             "build / pure encode"],
            [[b["articles"], b["chunks"], b["sentences"], fmt(b["build_s"], digits=2),
              fmt(b["build_stages_s"].get("encode"), digits=2), fmt(b["pure_encode_s"], digits=2),
              fmt(b["ratio_build_over_encode"], digits=2)]]) + "\n")
    if "cold_start" in r:
        c = r["cold_start"]
        if "error" in c:
            parts.append(f"## Cold start\n\nfailed: {c['error']}\n")
        else:
            parts.append("## Cold start (new process: import, load, first answer)\n\n" + table(
                ["wall s", "import s", "load s", "first answer s", "child peak RSS MB"],
                [[fmt(c["wall_s"], digits=2), fmt(c["import_s"], digits=2), fmt(c["load_s"], digits=2),
                  fmt(c["first_answer_s"], digits=2), fmt(c["child_peak_rss_mb"], digits=0)]]) + "\n")
    parts.append(f"Peak RSS of the benchmark process: {r['peak_rss_mb']:.0f} MB.\n")
    return "\n".join(parts)
