"""``eval.bench_scale`` on small sizes: the vector generator, exact search, and one run (no model)."""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from eval.bench_scale import (add_parser, cmd_bench_scale, exact_topk, make_queries, recall_at_k,
                              vector_blocks)

KEYS = {"n_chunks", "n_sentences", "index", "build_s", "load_s", "rss_mb", "search_p50_ms", "search_p95_ms",
        "recall_at_10", "param"}


def _parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_parser(p.add_subparsers(dest="command", required=True))
    return p.parse_args(["bench-scale", *argv])


def _vectors(n: int, dim: int, seed: int = 0, block: int = 1000) -> np.ndarray:
    return np.concatenate(list(vector_blocks(n, dim, seed, block)))


def test_vectors_are_unit_deterministic_and_clustered():
    v = _vectors(2500, 48)
    assert v.shape == (2500, 48) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(v, _vectors(2500, 48))
    assert not np.array_equal(v, _vectors(2500, 48, seed=1))
    assert [len(b) for b in vector_blocks(2500, 48, block=1000)] == [1000, 1000, 500]
    # Clustered: the nearest other row is much closer than a random pair.
    s = v[:200] @ v.T
    s[np.arange(200), np.arange(200)] = -1
    assert s.max(axis=1).mean() > (v[:200] @ v[200:400].T).mean() + 0.3


def test_queries_are_noisy_copies():
    v = _vectors(3000, 64)
    q, tune = make_queries(v, 50), make_queries(v, 50, stream=1)
    assert q.shape == (50, 64) and np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    best = (q @ v.T).max(axis=1)
    assert (best < 0.999).all() and (best > 0.7).all()  # near a corpus row, never a duplicate
    assert not np.array_equal(q, tune) and np.array_equal(q, make_queries(v, 50))


def test_exact_topk_in_blocks_matches_brute_force_and_recall():
    v, q = _vectors(3000, 32), _vectors(20, 32, seed=5)
    rows, scores = exact_topk(v, q, k=10, block=700)
    brute = np.argsort(-(q @ v.T), axis=1)[:, :10]
    assert np.array_equal(np.sort(rows, axis=1), np.sort(brute, axis=1))
    assert np.all(np.diff(scores, axis=1) <= 0)
    assert recall_at_k(rows, q, v, scores[:, -1]) == 1.0
    half = rows.copy()
    half[:, 5:] = -1
    assert recall_at_k(half, q, v, scores[:, -1]) == 0.5


def test_small_run_flat_hnsw_and_the_store_index(tmp_path):
    args = _parse("--sizes", "3000", "--index", "flat", "hnsw", "ivf-sq8", "--queries", "60", "--out", str(tmp_path),
                  "-q", "--no-model")
    assert args.func is cmd_bench_scale and args.dim == 384
    assert cmd_bench_scale(args) == 0
    rows = json.loads((tmp_path / "bench-scale.json").read_text(encoding="utf-8"))
    assert [r["index"] for r in rows] == ["flat", "hnsw", "ivf-sq8"]
    for r in rows:
        assert KEYS <= set(r)
        assert r["n_chunks"] == 3000 and r["n_sentences"] == 0
        assert r["build_s"] >= 0 and r["load_s"] > 0 and r["search_p95_ms"] >= r["search_p50_ms"] > 0
        assert r["rss_mb"] is None or r["rss_mb"] > 0
    flat, hnsw, store = rows
    assert flat["recall_at_10"] == 1.0 and flat["param"] == "exact"
    assert hnsw["recall_at_10"] >= 0.95 and hnsw["param"].startswith("efSearch=")
    assert store["recall_at_10"] >= 0.95 and store["param"].startswith("nlist=")
    assert store["index_mb"] < 0.5 * flat["index_mb"]  # 8-bit codes: a quarter of the floats, plus lists
    md = (tmp_path / "bench-scale.md").read_text(encoding="utf-8")
    assert "n_sentences = 0" in md and "| 3000 | 0 | hnsw |" in md
    assert (tmp_path / "bench-scale.png").stat().st_size > 0


def test_small_sizes_are_refused(tmp_path, capsys):
    assert cmd_bench_scale(_parse("--sizes", "5000", "999", "--out", str(tmp_path))) == 2
    assert "below 1,000" in capsys.readouterr().err
    assert not (tmp_path / "bench-scale.json").exists()


def test_missing_faiss_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss -> ImportError
    assert cmd_bench_scale(_parse("--sizes", "1000", "--out", str(tmp_path))) == 2
    assert "FAISS" in capsys.readouterr().err


def test_bench_store_serves_a_synthetic_generation(tmp_path):
    from eval.bench_store import synthetic
    from eval.cli import main as eval_main

    articles, chunks, sentences, cv, sv = synthetic(400)
    text = {a.source: a.text for a in articles}
    assert len(chunks) == 400 and len(sentences) == 800 and cv.shape == (400, 384) and sv.shape == (800, 384)
    assert all(text[c.source][c.start:c.end] == c.text for c in chunks)
    assert all(text[s.source][s.start:s.end] == s.text and s.id == i for i, s in enumerate(sentences))
    assert eval_main(["bench-store", "--sizes", "2000", "--questions", "30", "--out", str(tmp_path), "-q"]) == 0
    (row,) = json.loads((tmp_path / "bench-store.json").read_text(encoding="utf-8"))["rows"]
    assert row["n_chunks"] == 2000 and row["vector_index"]["kind"] == "flat" and row["load_s"] > 0
    assert row["right_article"] >= 0.9  # the questions are a sentence's own words near its passage
    assert row["answer_p95_ms"] >= row["answer_p50_ms"] > 0
