"""``python -m eval bench``: end-to-end latency, build time, cold start and memory.

* warm latency: >= 200 questions (the gold questions cycled) through ``index.answer``,
  p50/p95 of embed/search/extract/total, next to the bare ``engine.embed_query``
  time on the same questions in the same process (total/embed ratio);
* the naive baseline's latency in the same run;
* build: a fresh index of the project corpus in a temp dir (``force=True``) vs
  encoding the same chunk and sentence texts directly with the model;
* start-up, median of 3 cold starts each: ``python -m index ask`` to exit, and ``python app.py``
  to its page served and to its first /ask answer, with each child's peak RSS (``os.wait4``),
  plus the import / load / first-answer split inside one process;
* peak RSS of this process.
"""
from __future__ import annotations

import json
import os
import platform
import socket
import statistics
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
from index.chunking import split_articles
from index.corpus import load_corpus
from index.embedding import load_model

from .gold import load_gold
from .metrics import percentiles, ratio
from .report import fmt, table
from .run import WARMUP, prepare_engine
from .systems import make_systems

ROOT = Path(__file__).resolve().parent.parent

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
    texts = [t.text for _, chunks, sentences in split_articles(articles, cfg) for t in chunks + sentences]
    model = load_model(cfg)
    t = time.perf_counter()
    encode_passages(model, texts, progress=False)
    encode = time.perf_counter() - t
    return {"build_s": total, "build_stages_s": result.seconds, "texts": len(texts),
            "articles": result.articles, "chunks": result.chunks, "sentences": result.sentences,
            "pure_encode_s": encode, "ratio_build_over_encode": ratio(total, encode)}


def _run_measured(argv: list[str], env: dict | None = None, until=None) -> tuple[float, float, int, object]:
    """Start ``argv``; return (wall s, peak RSS MB, exit status, what ``until(proc, t0)`` returned).

    ``until`` runs while the process lives and then it is terminated; without it the
    process runs to its end. The peak RSS is the child's own (``os.wait4``).
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    extra = None
    if until is not None:
        try:
            extra = until(proc, t0)
        finally:
            proc.terminate()
    else:
        proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.stdout.close()
    return wall, usage.ru_maxrss / 1024, status, extra


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app_until_first_answer(question: str, port: int):
    def until(proc, t0):
        import httpx

        url = f"http://127.0.0.1:{port}/"
        page = None
        while time.perf_counter() - t0 < 600 and proc.poll() is None:
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    page = time.perf_counter() - t0
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        if page is None:
            return {"error": "the page was never served"}
        r = httpx.post(url + "gradio_api/call/ask", json={"data": [question]}, timeout=30)
        stream = httpx.get(url + f"gradio_api/call/ask/{r.json()['event_id']}", timeout=600).text
        answered = time.perf_counter() - t0
        data = json.loads(stream.split("data:", 1)[1].strip())[0] if "event: complete" in stream else {}
        return {"page_s": page, "first_answer_s": answered, "abstained": data.get("abstained")}
    return until


def startup(question: str, runs: int = 3) -> dict:
    """Median of ``runs`` cold starts (warm disk cache) of the CLI and of the app, with peak RSS.

    CLI: ``python -m index ask QUESTION`` to exit. App: ``python app.py`` to its page
    answering HTTP 200, and to the first answer of /ask asked right after the page.
    """
    cli, app = [], []
    for _ in range(runs):
        wall, rss, status, _ = _run_measured([sys.executable, "-m", "index", "ask", question])
        cli.append({"wall_s": wall, "peak_rss_mb": rss, "ok": status == 0})
        port = _free_port()
        env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
        _, rss, _, extra = _run_measured([sys.executable, "app.py"], env, _app_until_first_answer(question, port))
        app.append({**extra, "peak_rss_mb": rss})
    med = lambda rows, key: statistics.median(r[key] for r in rows if key in r) if rows else None  # noqa: E731
    breakdown = subprocess.run([sys.executable, "-c", COLD.format(question=question)], capture_output=True,
                               text=True, cwd=ROOT)
    return {
        "runs": runs,
        "cli_ask_s": med(cli, "wall_s"), "cli_peak_rss_mb": med(cli, "peak_rss_mb"),
        "cli_ok": all(r["ok"] for r in cli),
        "app_page_s": med(app, "page_s"), "app_first_answer_s": med(app, "first_answer_s"),
        "app_peak_rss_mb": med(app, "peak_rss_mb"), "app_errors": [r["error"] for r in app if "error" in r],
        "in_process": json.loads(breakdown.stdout.strip().splitlines()[-1]) if breakdown.returncode == 0
        else {"error": breakdown.stderr.strip().splitlines()[-1:]},
        "cli": cli, "app": app,
    }


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
        result["startup"] = startup(gold[0])
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
    if "startup" in r:
        c = r["startup"]
        i = c["in_process"]
        parts.append(f"## Start-up (median of {c['runs']} cold starts, warm disk cache)\n\n" + table(
            ["CLI `ask` to exit s", "CLI peak RSS MB", "app page served s", "app first answer s",
             "app peak RSS MB", "in-process import / load / first answer s"],
            [[fmt(c["cli_ask_s"], digits=2), fmt(c["cli_peak_rss_mb"], digits=0), fmt(c["app_page_s"], digits=2),
              fmt(c["app_first_answer_s"], digits=2), fmt(c["app_peak_rss_mb"], digits=0),
              " / ".join(fmt(i.get(k), digits=2) for k in ("import_s", "load_s", "first_answer_s"))]]) + "\n")
    parts.append(f"Peak RSS of the benchmark process: {r['peak_rss_mb']:.0f} MB.\n")
    return "\n".join(parts)
