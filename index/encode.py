"""Encoding for a build: length-sorted batches, saved in shards, so a killed build resumes.

The texts are sorted by length (batches then pad little) and cut into shards of
``Config.encode_shard_size``. Each finished shard is written atomically to
``<index_dir>/.encode/<job>/``, where ``job`` names the model and the exact
texts: a build killed at any point reuses every shard it finished and encodes
only the rest. The folder is deleted once the generation is saved.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import stages


@dataclass(frozen=True)
class Plan:
    """Which texts each shard holds: ``order`` sorted by length, cut every ``size`` rows."""

    folder: Path
    order: np.ndarray
    size: int

    @property
    def shards(self) -> int:
        return -(-len(self.order) // self.size)

    def rows(self, shard: int) -> np.ndarray:
        return self.order[shard * self.size:(shard + 1) * self.size]

    def path(self, shard: int) -> Path:
        return self.folder / f"shard-{shard:06d}.npy"


def plan(index_dir: Path, model_id: str, texts: list[str], shard_size: int) -> Plan:
    digest = hashlib.sha256(model_id.encode())
    for t in texts:
        digest.update(hashlib.sha256(t.encode()).digest())
    folder = Path(index_dir) / ".encode" / digest.hexdigest()[:20]
    order = np.argsort(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)), kind="stable")
    return Plan(folder=folder, order=order, size=max(1, shard_size))


def load_shard(plan: Plan, shard: int, dim: int | None) -> np.ndarray | None:
    """A finished shard's vectors, or None when it is missing or unusable (then it is encoded again)."""
    try:
        vectors = np.load(plan.path(shard), allow_pickle=False)
    except (OSError, ValueError):
        return None
    rows = len(plan.rows(shard))
    if vectors.ndim != 2 or vectors.shape[0] != rows or (dim and vectors.shape[1] != dim) \
            or not np.isfinite(vectors).all():
        return None
    return vectors


def save_shard(plan: Plan, shard: int, vectors: np.ndarray) -> None:
    plan.folder.mkdir(parents=True, exist_ok=True)
    # Hidden and without the .npy suffix: a half-written shard never looks like a finished one.
    tmp = plan.folder / f".{plan.path(shard).name}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(vectors, dtype=np.float32))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, plan.path(shard))


def finished(plan: Plan, dim: int | None) -> dict[int, np.ndarray]:
    found = {}
    for shard in range(plan.shards):
        vectors = load_shard(plan, shard, dim)
        if vectors is not None:
            found[shard] = vectors
            dim = dim or vectors.shape[1]
    return found


def assemble(plan: Plan, shards: dict[int, np.ndarray], dim: int) -> np.ndarray:
    out = np.zeros((len(plan.order), dim), dtype=np.float32)
    for shard, vectors in shards.items():
        out[plan.rows(shard)] = vectors
    return out


def encode_local(model, texts: list[str], plan: Plan, batch_size: int, progress: bool, log) -> tuple[np.ndarray, int]:
    """(vectors in the order of ``texts``, how many were encoded now rather than reused)."""
    from tqdm.auto import tqdm

    dim = model.get_sentence_embedding_dimension()
    shards = finished(plan, dim)
    reused = sum(len(plan.rows(s)) for s in shards)
    if reused:
        log(f"resuming: {len(shards)} of {plan.shards} shards ({reused:,} texts) already encoded")
    with tqdm(total=len(texts), initial=reused, unit="text", desc="encoding", disable=not progress) as bar:
        for shard in range(plan.shards):
            if shard in shards:
                continue
            rows = plan.rows(shard)
            vectors = model.encode([texts[r] for r in rows], prompt_name="passage", normalize_embeddings=True,
                                   batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)
            save_shard(plan, shard, vectors)
            shards[shard] = np.asarray(vectors, dtype=np.float32)
            bar.update(len(rows))
            stages.reached("shard", len(shards))
    return assemble(plan, shards, dim), len(texts) - reused


def discard(index_dir: Path) -> None:
    """Drop the shards of finished (or abandoned) builds."""
    shutil.rmtree(Path(index_dir) / ".encode", ignore_errors=True)
