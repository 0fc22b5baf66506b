"""Archive scale: resumable sharded encoding, the Ray pipeline, the IVF index and its checksum."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from crash_trials import BuildProcess
from fakes import HashEmbedder
from index import build, load
from index.answer import answer
from index.encode import encode_local, plan
from index.store import IndexCorrupt, current_path, load_generation

SEED_QUESTIONS = [
    "Ai ký biên bản ghi nhớ với CISA?",
    "Hội thảo CLMV được tổ chức ở đâu?",
    "When was the CLMV workshop held in Hanoi?",
    "Việt Nam hợp tác với những nước nào về an ninh mạng?",
    "What is the capital of France?",
]


class Interrupted(Exception):
    pass


class DiesAfter(HashEmbedder):
    """Encodes ``calls`` batches of texts, then fails as a killed process would."""

    def __init__(self, calls: int):
        self.calls, self.texts = calls, 0

    def encode(self, sentences, prompt_name=None, **kw):
        if self.calls == 0:
            raise Interrupted
        self.calls -= 1
        self.texts += len(sentences)
        return super().encode(sentences, prompt_name, **kw)


def test_interrupted_encoding_resumes_with_only_the_unfinished_shards(tmp_path):
    texts = [f"văn bản số {i} " + "x" * (i % 7) for i in range(50)]
    shards = plan(tmp_path, "m", texts, shard_size=8)  # 7 shards, the last of 2 texts
    with pytest.raises(Interrupted):
        encode_local(DiesAfter(3), texts, shards, 4, False, lambda m: None)
    assert len(list(shards.folder.glob("shard-*.npy"))) == 3
    second = DiesAfter(99)
    vectors, encoded = encode_local(second, texts, shards, 4, False, lambda m: None)
    assert encoded == second.texts == 50 - 3 * 8
    assert np.allclose(vectors, HashEmbedder().encode(texts), atol=1e-6)  # in the order of the texts
    # Another model or other texts never reuse these shards.
    assert plan(tmp_path, "other", texts, 8).folder != shards.folder
    assert plan(tmp_path, "m", texts[:-1], 8).folder != shards.folder


def test_damaged_shard_is_encoded_again(tmp_path):
    texts = [f"câu {i}" for i in range(20)]
    shards = plan(tmp_path, "m", texts, shard_size=8)
    encode_local(HashEmbedder(), texts, shards, 8, False, lambda m: None)
    shards.path(1).write_bytes(shards.path(1).read_bytes()[:-9])
    again = DiesAfter(99)
    vectors, encoded = encode_local(again, texts, shards, 8, False, lambda m: None)
    assert encoded == 8 and np.allclose(vectors, HashEmbedder().encode(texts), atol=1e-6)


@pytest.fixture(scope="module")
def ivf(tmp_path_factory, built, engine):
    """The project's corpus with the IVF index forced (QA_EXACT_SEARCH_MAX=0), vectors reused."""
    index = tmp_path_factory.mktemp("ivf") / "index"
    shutil.copytree(built.index_dir, index)
    config = built.with_(index_dir=index, exact_search_max=0)
    result = build(config, progress=False, log=lambda m: None, model=engine.model)
    assert result.generation and result.embedded == 0  # rebuilt for the index kind, nothing re-encoded
    return config


def test_ivf_index_answers_the_seed_questions_as_exact_search(ivf, engine):
    approximate = load(ivf, model=engine.model)
    assert approximate.generation.manifest["chunk_index"]["kind"] == "ivf-sq8"
    assert approximate.retriever.chunk_index.ntotal == len(approximate.generation.chunks)
    for question in SEED_QUESTIONS:
        a, b = answer(engine, question).to_dict(), answer(approximate, question).to_dict()
        for d in (a, b):
            d.pop("timings_ms", None)
        assert a == b, question


def test_damaged_ivf_file_is_refused_before_faiss_reads_it(ivf, tmp_path, monkeypatch):
    import faiss

    index = tmp_path / "index"
    shutil.copytree(ivf.index_dir, index)
    target = current_path(index) / "chunk_index.faiss"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x20
    target.write_bytes(bytes(data))
    read = []
    monkeypatch.setattr(faiss, "read_index", lambda *a, **k: read.append(a))
    with pytest.raises(IndexCorrupt, match="chunk_index.faiss fails its checksum"):
        load_generation(index)
    assert read == []


def test_ray_pipeline_gives_the_local_vectors(engine, tmp_path):
    pytest.importorskip("ray")
    from index.encode_ray import encode_ray

    texts = [c.text for c in list(engine.generation.chunks)[:6]] + ["An ninh mạng", "cybersecurity cooperation"]
    config = engine.config.with_(index_dir=tmp_path, ray_encoders=1, encode_batch_size=3)
    shards = plan(tmp_path, "ray-test", texts, shard_size=3)
    import ray

    try:
        vectors, encoded = encode_ray(texts, shards, config, 384, False, lambda m: None)
    finally:
        ray.shutdown()
    local = engine.model.encode(texts, prompt_name="passage", normalize_embeddings=True, convert_to_numpy=True)
    cosines = np.sum(vectors * local, axis=1)
    assert encoded == len(texts) and cosines.min() >= 0.9999, cosines
    assert len(list(shards.folder.glob("shard-*.npy"))) == 3


def test_build_killed_while_encoding_resumes_from_its_shards(built, engine, tmp_path):
    """SIGKILL a real build held once its third shard is saved; the next build encodes only the other texts."""

    corpus = tmp_path / "corpus"
    shutil.copytree(built.corpus_dir, corpus)
    index = tmp_path / "index"
    with BuildProcess(corpus, index, hold="shard:3", force=False,
                      env={"QA_ENCODE_SHARD": "16", "QA_ENCODE_BATCH": "4"}) as proc:
        assert proc.wait_for("held at shard 3"), proc.stderr
        assert proc.kill() is None
    assert current_path(index) is None  # nothing half-built became an index
    assert len(list(index.glob(".encode/*/shard-*.npy"))) == 3
    config = built.with_(corpus_dir=corpus, index_dir=index, encode_shard_size=16, encode_batch_size=4)
    result = build(config, progress=False, log=lambda m: None, model=engine.model)
    assert result.embedded == result.chunks + result.sentences - 3 * 16
    assert not (index / ".encode").exists()  # shards are dropped once the generation is saved
    resumed, fresh = load_generation(index), engine.generation
    assert np.allclose(resumed.sentence_vectors, fresh.sentence_vectors, atol=1e-4)
    assert np.allclose(resumed.chunk_vectors, fresh.chunk_vectors, atol=1e-4)


def test_bench_build_estimates_an_archive(built, tmp_path):
    from eval.cli import main as eval_main

    assert eval_main(["bench-build", "--corpus", str(built.corpus_dir), "--engines", "local",
                      "--out", str(tmp_path), "-q"]) == 0
    report = json.loads((tmp_path / "bench-build.json").read_text(encoding="utf-8"))
    (row,) = report["rows"]
    assert report["meta"]["articles"] == 5 and row["texts"] > 5 * 10
    assert 0 < row["hours_10k_no_sentence_vectors"] < row["hours_10k"]
    assert "hours for 10,000 articles" in (tmp_path / "bench-build.md").read_text(encoding="utf-8")


def test_bench_build_scales_the_measured_time_to_the_archive(corpus_dir, tmp_path, monkeypatch):
    """5 articles encoded in 1.8 s, their passages alone in 0.9 s: 10,000 articles take 2,000 x 1.8 s = 1 hour."""
    import index.embedding
    from eval import bench_build
    from eval.cli import main as eval_main

    monkeypatch.setattr(index.embedding, "load_model", lambda config: HashEmbedder())
    seconds = iter([0.9, 1.8])  # the passages alone, then passages and sentences
    monkeypatch.setattr(bench_build, "_timed_local", lambda model, texts, config: next(seconds))
    assert eval_main(["bench-build", "--corpus", str(corpus_dir), "--engines", "local",
                      "--out", str(tmp_path), "-q"]) == 0
    (row,) = json.loads((tmp_path / "bench-build.json").read_text(encoding="utf-8"))["rows"]
    assert row["hours_10k"] == pytest.approx(1.0)
    assert row["hours_10k_no_sentence_vectors"] == pytest.approx(0.5)
