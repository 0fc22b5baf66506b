"""The build's embedding stage as a Ray Data pipeline: the same shards as ``encode.py``, many encoders.

texts of the unfinished shards -> ``map_batches`` over an actor pool of encoders
(each loads the model once) -> rows streamed back and written shard by shard.
It runs on this machine with ``ray.init(num_cpus=...)`` and, unchanged, on a
cluster named by ``RAY_ADDRESS``; the shards make it resumable either way.
"""
from __future__ import annotations

import os
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from .config import ROOT, Config
from . import stages
from .encode import Plan, assemble, finished, save_shard


class Encoder:
    """One model per actor; called with a batch of {"row", "text"} columns."""

    def __init__(self, settings: dict):
        from .embedding import load_model

        paths = {f.name for f in fields(Config) if f.type == "Path"}
        config = Config(**{k: Path(v) if k in paths and v is not None else v for k, v in settings.items()})
        self.model = load_model(config)
        self.batch_size = config.encode_batch_size

    def __call__(self, batch: dict) -> dict:
        vectors = self.model.encode(list(batch["text"]), prompt_name="passage", normalize_embeddings=True,
                                    batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True)
        return {"row": batch["row"], "vector": np.asarray(vectors, dtype=np.float32)}


def _settings(config: Config) -> dict:
    # Actors rebuild the Config from plain values (tuples and paths travel as lists and strings).
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}


def init_ray(config: Config):
    import logging

    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("QA_ENCODE_ENGINE=ray needs Ray Data: pip install 'ray[data]==2.60.0'") from exc

    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        env = {"env_vars": {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}}
        if address:  # a cluster: ship the package, not the caches
            ray.init(address=address, runtime_env={"working_dir": str(ROOT),
                                                   "excludes": [".cache/", ".venv/", "eval/out/", ".git/"]})
        else:
            ray.init(num_cpus=max(1, config.ray_encoders), include_dashboard=False, log_to_driver=False,
                     runtime_env=env, logging_level="ERROR")
    # Our own progress bar counts texts; Ray Data's per-operator bars would bury it.
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


def encode_ray(texts: list[str], plan: Plan, config: Config, dim: int, progress: bool, log) -> tuple[np.ndarray, int]:
    """(vectors in the order of ``texts``, how many were encoded now); shards as ``encode_local`` writes them."""
    from tqdm.auto import tqdm

    shards = finished(plan, dim)
    todo = [s for s in range(plan.shards) if s not in shards]
    reused = len(texts) - sum(len(plan.rows(s)) for s in todo)
    if shards:
        log(f"resuming: {len(shards)} of {plan.shards} shards ({reused:,} texts) already encoded")
    if todo:
        ray = init_ray(config)
        rows = np.concatenate([plan.rows(s) for s in todo])
        shard_of = {int(r): s for s in todo for r in plan.rows(s)}
        items = [{"row": int(r), "text": texts[r]} for r in rows]
        use_gpu = config.device == "cuda" or (config.device == "auto" and _has_gpu(ray))
        dataset = ray.data.from_items(items).map_batches(
            Encoder, fn_constructor_args=(_settings(config),), batch_size=config.encode_batch_size,
            concurrency=max(1, config.ray_encoders), num_gpus=1 if use_gpu else 0, num_cpus=0 if use_gpu else 1)
        pending = {s: {} for s in todo}
        with tqdm(total=len(texts), initial=reused, unit="text", desc="encoding (ray)", disable=not progress) as bar:
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                for row, vector in zip(batch["row"], batch["vector"]):
                    shard = shard_of[int(row)]
                    pending[shard][int(row)] = vector
                    if len(pending[shard]) == len(plan.rows(shard)):
                        got = pending.pop(shard)
                        vectors = np.stack([got[int(r)] for r in plan.rows(shard)])
                        save_shard(plan, shard, vectors)
                        shards[shard] = vectors
                        stages.reached("shard", len(shards))
                bar.update(len(batch["row"]))
    return assemble(plan, shards, dim), len(texts) - reused


def _has_gpu(ray) -> bool:
    return ray.cluster_resources().get("GPU", 0) > 0
