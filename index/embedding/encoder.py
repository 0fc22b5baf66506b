"""The default model at query time without torch: ``tokenizers`` + onnxruntime + numpy.

It mirrors what sentence-transformers does with the converted folder (prompt
prefix, truncation to ``max_seq_length``, mean pooling over every token the
prompt included, unit length), so vectors equal those of the torch backend to
float precision while the process never imports torch or sentence-transformers:
that import alone costs seconds at start-up.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .onnx import session


class OnnxEncoder:
    """``encode(texts, prompt_name="query" | "passage")`` like a ``SentenceTransformer``."""

    def __init__(self, model_dir: Path, onnx_path: Path, threads: int | None = None, gpu: bool = False):
        import threading

        from tokenizers import Tokenizer

        # The session (reading ~0.5 GB of weights, native code) loads on the other core
        # while the tokenizer is built here: start-up is the longer of the two, not the sum.
        loaded: dict = {}

        def load_session() -> None:
            try:
                loaded["session"] = session(onnx_path, threads, gpu)
            except BaseException as exc:  # re-raised in the constructing thread
                loaded["error"] = exc

        loader = threading.Thread(target=load_session, name="onnx-session")
        loader.start()
        model_dir = Path(model_dir)
        st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        self.prompts: dict[str, str] = st_config["prompts"]
        self.max_seq_length = json.loads(
            (model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"]
        hf_config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.dim = int(hf_config["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self.tokenizer.enable_padding(pad_id=hf_config["pad_token_id"])
        loader.join()
        if "error" in loaded:
            raise loaded["error"]
        self.session = loaded["session"]

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (hidden,) = self.session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def encode(self, sentences: str | list[str], prompt_name: str | None = None, batch_size: int = 32,
               show_progress_bar: bool = False, normalize_embeddings: bool = True,
               convert_to_numpy: bool = True, **_ignored) -> np.ndarray:
        """Unit vectors, one row per text (a 1-d vector for a single string).

        Texts are encoded longest first so a batch pads little, then put back in order.
        """
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        prefix = self.prompts.get(prompt_name, "") if prompt_name else ""
        texts = [prefix + t for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(order), batch_size)
        if show_progress_bar:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Batches")  # the label sentence-transformers uses
        for start in starts:
            rows = order[start:start + batch_size]
            out[rows] = self._batch([texts[i] for i in rows])
        return out[0] if single else out
