"""A deterministic stand-in for the embedding model, so unit tests run in seconds without it.

Words (diacritic-folded, lower-cased) and their character trigrams are hashed
into signed buckets of a 384-d vector: texts sharing words get a high cosine,
which is all the pipeline needs to be exercised end to end.
"""
from __future__ import annotations

import threading
import zlib

import numpy as np

from index.text import fold, words

DIM = 384


class HashEmbedder:
    model_id = "test-hash-embedder-1"

    def get_sentence_embedding_dimension(self) -> int:
        return DIM

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(DIM, dtype=np.float32)
        for w in (fold(t) for t in words(text)):
            grams = [w] + [w[i:i + 3] for i in range(max(1, len(w) - 2))]
            for j, g in enumerate(grams):
                h = zlib.crc32(g.encode("utf-8"))
                v[h % DIM] += (1.0 if h & 0x80000000 else -1.0) * (2.0 if j == 0 else 0.5)
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def encode(self, sentences, prompt_name=None, **_ignored) -> np.ndarray:
        if isinstance(sentences, str):
            return self._vector(sentences)
        return np.stack([self._vector(s) for s in sentences]) if sentences else np.zeros((0, DIM), np.float32)


class GatedModel(HashEmbedder):
    """Encoding blocks until the test opens the gate: a slow model load, made visible."""

    def __init__(self, bound: float = 120.0):
        self.gate = threading.Event()
        self.bound = bound

    def encode(self, sentences, prompt_name=None, **kw):
        assert self.gate.wait(self.bound), "gate never opened"
        return super().encode(sentences, prompt_name, **kw)
