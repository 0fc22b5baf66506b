"""Load: 20 gradio_client clients x 50 questions against `python app.py` on 127.0.0.1, a burst past
the queue limit, and the app's memory over 2,000 questions.

Reports p50/p95 latency, queue-full behaviour and RSS start/end/peak (printed
and written to $STRESS_OUT/stress.json). Hard cap: CAP_SECONDS.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from app_fixtures import free_port
from index import Config

pytestmark = pytest.mark.stress
ROOT = Path(__file__).resolve().parents[2]
# The summary goes where STRESS_OUT says (make stress: eval/out); a plain pytest run keeps it in its temp folder.
STRESS_OUT = os.environ.get("STRESS_OUT")
CLIENTS, PER_CLIENT, MEMORY_QUESTIONS, BURST = 20, 50, 2000, 100
CAP_SECONDS = 840
SETTINGS = Config()  # the app's queue size and concurrency (the suite clears QA_* settings)
QUESTIONS = [
    "Việt Nam có bao nhiêu người sử dụng internet?",
    "so nguoi dung internet o viet nam dau nam 2024",
    "Who led the Vietnamese delegation at Singapore International Cyber Week 2022?",
    "Hội nghị Bộ trưởng ASEAN về An ninh mạng lần thứ 7 diễn ra khi nào?",
    "How do I bake sourdough bread at home?",
    "Ai dẫn đầu đoàn Việt Nam tại SICW 2022?",
    "Hội thảo CLMV lần thứ hai khai mạc ngày nào?",
    "",
    "<script>alert(1)</script>",
    "越南有多少互联网用户？",
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "timings_ms"}


@pytest.fixture(scope="module")
def server(built):
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "INDEX_DIR": str(built.index_dir),
           "CORPUS_DIR": str(built.corpus_dir), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    log = open(built.index_dir.parent / "app.log", "wb")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "app exited during start-up"
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("app did not start within 240 s")
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def burst(url: str, n: int) -> dict:
    """n simultaneous /ask submissions over raw HTTP: how many complete, how many are refused as queue-full."""
    results: list[str] = []
    lock = threading.Lock()

    def one(i):
        try:
            r = httpx.post(url + "gradio_api/call/ask", json={"data": [QUESTIONS[i % 7]]}, timeout=120)
            if r.status_code == 503 and "queue" in r.text.lower():
                outcome = "queue full (HTTP 503)"
            elif r.status_code != 200:
                outcome = f"http {r.status_code}: {r.text[:80]}"
            else:
                stream = httpx.get(url + f"gradio_api/call/ask/{r.json()['event_id']}", timeout=120).text
                if "event: complete" in stream:
                    outcome = "complete"
                elif "queue is full" in stream.lower():
                    outcome = "queue full"
                else:
                    outcome = "other: " + stream[:120]
        except Exception as exc:  # counted, reported
            outcome = f"exception {type(exc).__name__}"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    counts: dict[str, int] = {}
    for r in results:
        counts[r] = counts.get(r, 0) + 1
    return counts


def test_load_and_memory(server, built):
    url, proc = server
    t_start = time.monotonic()
    report: dict = {"app_queue_max_size": SETTINGS.queue_size, "app_concurrency": SETTINGS.concurrency}
    rss = {"start": rss_mb(proc.pid)}
    seq_client = Client(url, verbose=False)
    expected = {q: strip(seq_client.predict(q, api_name="/ask")) for q in QUESTIONS}

    latencies: list[float] = []
    errors: list[str] = []
    mismatches: list[str] = []
    lock = threading.Lock()

    def client_run(c: int, n: int, questions_done: list):
        client = Client(url, verbose=False)
        for i in range(n):
            if time.monotonic() - t_start > CAP_SECONDS:
                return
            q = QUESTIONS[(c + i) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                d = client.predict(q, api_name="/ask")
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {str(exc)[:100]}")
                continue
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(dt)
                questions_done.append(1)
                if strip(d) != expected[q]:
                    mismatches.append(q)

    # 1. 20 clients x 50 questions at once.
    done: list = []
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(lambda c: client_run(c, PER_CLIENT, done), range(CLIENTS)))
    wall = time.monotonic() - t0
    rss["after_load"] = rss_mb(proc.pid)
    report["load"] = {
        "clients": CLIENTS, "questions_per_client": PER_CLIENT, "answered": len(done), "errors": len(errors),
        "error_samples": errors[:5], "mismatches_vs_sequential": len(mismatches),
        "p50_ms": round(pct(latencies, 0.5), 1), "p95_ms": round(pct(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1) if latencies else None, "wall_s": round(wall, 1),
        "throughput_qps": round(len(done) / wall, 1) if wall else None,
    }

    # 2. A burst past the queue limit.
    report["burst"] = {"simultaneous": BURST, "outcomes": burst(url, BURST)}
    after_burst = seq_client.predict(QUESTIONS[0], api_name="/ask")
    report["burst"]["answers_after_burst"] = strip(after_burst) == expected[QUESTIONS[0]]

    # 3. Memory over 2,000 more questions (4 clients), sampled every ~100.
    samples = [rss_mb(proc.pid)]
    mem_done: list = []
    stop = threading.Event()

    def sampler():
        while not stop.wait(1.0):
            samples.append(rss_mb(proc.pid))

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda c: client_run(c, MEMORY_QUESTIONS // 4, mem_done), range(4)))
    stop.set()
    th.join(timeout=5)
    samples.append(rss_mb(proc.pid))
    rss.update(before_2000=samples[0], end=samples[-1], peak=max(samples + [rss["after_load"]]),
               questions=len(mem_done))
    report["rss_mb"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in rss.items()}
    report["seconds"] = round(time.monotonic() - t_start, 1)

    out = Path(STRESS_OUT) if STRESS_OUT else built.index_dir.parent
    out.mkdir(parents=True, exist_ok=True)
    (out / "stress.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    load = report["load"]
    print("\n| measure | value |\n|---|---|")
    for k in ("clients", "questions_per_client", "answered", "errors", "mismatches_vs_sequential", "p50_ms",
              "p95_ms", "max_ms", "throughput_qps", "wall_s"):
        print(f"| {k} | {load[k]} |")
    print(f"| burst of {BURST} (queue {SETTINGS.queue_size}, concurrency {SETTINGS.concurrency}) | "
          f"{report['burst']['outcomes']} |")
    print(f"| answers after burst | {report['burst']['answers_after_burst']} |")
    for k, v in report["rss_mb"].items():
        print(f"| RSS {k} | {v} |")

    assert load["errors"] == 0 and load["mismatches_vs_sequential"] == 0
    assert load["answered"] == CLIENTS * PER_CLIENT
    assert set(report["burst"]["outcomes"]) <= {"complete", "queue full", "queue full (HTTP 503)"}
    assert report["burst"]["answers_after_burst"]
    assert len(mem_done) == MEMORY_QUESTIONS and not errors
    assert rss["end"] - rss["before_2000"] < 100, report["rss_mb"]  # flat: no per-question growth
