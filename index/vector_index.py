"""The passage vector index, chosen by size: exact below ``Config.exact_search_max`` rows, IVF above.

The approximate index is an inverted file over 8-bit scalar-quantised vectors
(FAISS ``IVF<nlist>,SQ8``): a quarter of the float vectors' memory, and built in
seconds per 100k rows on two cores, where HNSW takes minutes and keeps the floats.
``nprobe`` is raised at build time until recall@10 against exact search reaches
``Config.ann_recall`` on queries drawn from the corpus itself, and stored in the
manifest, so every archive gets the setting its own vectors need.
"""
from __future__ import annotations

import numpy as np

BLOCK = 65536  # rows per step when a large matrix is read from a memory map
K = 10
EPS = 1e-5  # a row within EPS of the exact k-th score counts as a true neighbour (ties)
NPROBES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
TUNING_QUERIES, QUERY_NOISE = 300, 0.5


def noisy(rng: np.random.Generator, x: np.ndarray, norm: float) -> np.ndarray:
    """Unit rows of ``x`` plus Gaussian noise of about ``norm`` (relative to a unit vector)."""
    x = x + rng.standard_normal(x.shape, dtype=np.float32) * np.float32(norm / np.sqrt(x.shape[1]))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def sample_queries(vectors: np.ndarray, n: int, seed: int = 0, stream: int = 0) -> np.ndarray:
    """``n`` random rows of ``vectors`` moved by noise: query stand-ins that need no encoder."""
    rng = np.random.default_rng([seed, 2, stream])
    return noisy(rng, np.asarray(vectors[np.sort(rng.integers(len(vectors), size=n))], dtype=np.float32),
                 QUERY_NOISE)


def exact_topk(vectors: np.ndarray, queries: np.ndarray, k: int = K, block: int = BLOCK):
    """(rows, scores), each (len(queries), k) best first: exact inner products, ``block`` rows at a time."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.full((len(queries), k), -1, dtype=np.int64)
    for start in range(0, len(vectors), block):
        s = queries @ np.asarray(vectors[start:start + block], dtype=np.float32).T
        part = np.argpartition(-s, min(k, s.shape[1]) - 1, axis=1)[:, :k]
        cand_s = np.concatenate([best_s, np.take_along_axis(s, part, 1)], axis=1)
        cand_i = np.concatenate([best_i, part + start], axis=1)
        order = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(cand_s, order, 1), np.take_along_axis(cand_i, order, 1)
    return best_i, best_s


def recall_at_k(found: np.ndarray, queries: np.ndarray, vectors: np.ndarray, kth: np.ndarray, k: int = K) -> float:
    """Mean share of the rows in ``found`` (-1 = none) scoring >= the exact k-th score ``kth`` - ``EPS`` (ties)."""
    hits = 0
    for q, rows, t in zip(queries, found, kth):
        rows = np.unique(rows[rows >= 0])
        hits += min(k, int(np.sum(np.asarray(vectors[rows], dtype=np.float32) @ q >= t - EPS))) if len(rows) else 0
    return hits / (k * len(queries))


def n_lists(n: int) -> int:
    """About 4 sqrt(n) lists, with 39+ training rows each (fewer makes k-means warn and drift)."""
    return max(1, min(round(4 * np.sqrt(n)), n // 40))


def build_ivf(vectors: np.ndarray, *, target: float = 0.97, seed: int = 0, log=lambda msg: None):
    """(IVF-SQ8 index, info) over ``vectors`` (a memory map is fine); ``info`` is what the manifest keeps."""
    import faiss

    n, dim = vectors.shape
    nlist = n_lists(n)
    index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng([seed, 3])
    sample = np.sort(rng.choice(n, size=min(n, 64 * nlist), replace=False))
    log(f"training {nlist} lists on {len(sample):,} vectors")
    index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
    for start in range(0, n, BLOCK):
        index.add(np.ascontiguousarray(vectors[start:start + BLOCK], dtype=np.float32))
    queries = sample_queries(vectors, min(TUNING_QUERIES, n), seed, stream=1)
    kth = exact_topk(vectors, queries)[1][:, -1]
    recall = 0.0
    for nprobe in [p for p in NPROBES if p < nlist] + [nlist]:
        index.nprobe = nprobe
        recall = recall_at_k(index.search(queries, K)[1], queries, vectors, kth)
        log(f"nprobe {nprobe}: recall@10 {recall:.3f}")
        if recall >= target:
            break
    return index, {"kind": "ivf-sq8", "nlist": nlist, "nprobe": int(index.nprobe), "tuned_recall_at_10": recall}


def configure(index, info: dict | None) -> None:
    """Apply the stored search setting to a freshly read index."""
    if info and info.get("kind") == "ivf-sq8":
        index.nprobe = int(info["nprobe"])
