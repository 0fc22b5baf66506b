import json

import numpy as np
import pytest

from index import store
from index.query import KeywordQuery
from index.store import IndexCorrupt, IndexMissing, load_generation, save_generation
from index.types import Article, Chunk, Sentence


def _data(tag: str):
    text = f"Bài {tag}. Câu hai về an ninh mạng."
    art = Article(source=f"{tag}.txt", title=f"Bài {tag}", date="2024-01-02", text=text, checksum=tag)
    chunk = Chunk(id=f"{tag}.txt#0", source=art.source, text=text, start=0, end=len(text))
    sents = [Sentence(id=0, source=art.source, chunk_id=chunk.id, text=text[:7], start=0, end=7),
             Sentence(id=1, source=art.source, chunk_id=chunk.id, text=text[8:], start=8, end=len(text))]
    rng = np.random.default_rng(0)
    return [art], [chunk], sents, rng.random((1, 8), dtype=np.float32), rng.random((2, 8), dtype=np.float32)


def test_round_trip(tmp_path):
    arts, chunks, sents, cv, sv = _data("a")
    save_generation(tmp_path, arts, chunks, sents, cv, sv, meta={"model_id": "m"})
    gen = load_generation(tmp_path)
    assert list(gen.articles.values()) == arts and list(gen.chunks) == chunks and list(gen.sentences) == sents
    assert gen.chunks[0] == chunks[0] and gen.sentences[-1] == sents[-1] and gen.chunks.row_of(chunks[0].id) == 0
    assert gen.sentences.in_span(arts[0].source, 0, 7) == (0,) and gen.idf.get("hai") < gen.idf.unseen
    assert np.array_equal(gen.chunk_vectors, cv) and np.array_equal(gen.sentence_vectors, sv)
    assert gen.manifest["model_id"] == "m"
    assert gen.chunk_keywords.top(KeywordQuery.plain("an ninh mang"), 3)[0][0] == 0  # folded match


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexMissing, match="python -m index build"):
        load_generation(tmp_path)


@pytest.mark.parametrize("damage", ["truncate", "bitflip", "delete"])
def test_checksums_catch_damage(tmp_path, damage):
    path = save_generation(tmp_path, *_data("a"), meta={})
    target = path / "sentence_vectors.npy"
    data = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(data[:-5])
    elif damage == "bitflip":
        target.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    else:
        target.unlink()
    with pytest.raises(IndexCorrupt, match="sentence_vectors.npy"):
        load_generation(tmp_path)


def test_manifest_cannot_point_outside(tmp_path):
    path = save_generation(tmp_path, *_data("a"), meta={})
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["../../etc/passwd"] = "0" * 64
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="outside"):
        load_generation(tmp_path)


def test_crash_during_write_keeps_previous_generation(tmp_path, monkeypatch):
    first = save_generation(tmp_path, *_data("a"), meta={})

    def crash(folder):
        raise OSError("disk died")

    monkeypatch.setattr(store, "fsync_tree", crash)
    with pytest.raises(OSError):
        save_generation(tmp_path, *_data("b"), meta={})
    gen = load_generation(tmp_path)
    assert gen.path == first and list(gen.articles) == ["a.txt"]
    assert not list(tmp_path.glob(".tmp-*"))


def test_new_generation_switches_and_old_ones_are_pruned(tmp_path):
    paths = [save_generation(tmp_path, *_data(t), meta={}) for t in "abc"]
    assert load_generation(tmp_path).path == paths[-1]
    assert sorted(p.name for p in (tmp_path / "generations").iterdir()) == sorted(p.name for p in paths[-2:])


def test_verified_large_files_are_not_hashed_again_until_they_change(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "STAMP_MIN_BYTES", 0)  # every file counts as large here
    path = save_generation(tmp_path, *_data("a"), meta={})
    load_generation(tmp_path)  # full check; stamps written
    hashed = []
    real = store.sha256_file
    monkeypatch.setattr(store, "sha256_file", lambda p: hashed.append(p.name) or real(p))
    load_generation(tmp_path)
    assert hashed == []
    target = path / "sentence_vectors.npy"
    data = target.read_bytes()
    target.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, new mtime
    with pytest.raises(IndexCorrupt, match="sentence_vectors.npy fails its checksum"):
        load_generation(tmp_path)
    assert hashed == ["sentence_vectors.npy"]


def test_faiss_files_are_always_hashed(tmp_path, monkeypatch):
    import faiss

    monkeypatch.setattr(store, "STAMP_MIN_BYTES", 0)
    arts, chunks, sents, cv, sv = _data("a")
    index = faiss.IndexFlatIP(cv.shape[1])
    index.add(cv)
    save_generation(tmp_path, arts, chunks, sents, cv, sv, meta={}, chunk_index=index)
    load_generation(tmp_path)
    hashed = []
    real = store.sha256_file
    monkeypatch.setattr(store, "sha256_file", lambda p: hashed.append(p.name) or real(p))
    assert load_generation(tmp_path).chunk_index.ntotal == 1
    assert hashed == ["chunk_index.faiss"]
