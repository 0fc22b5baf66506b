import json
import os
import sqlite3

import numpy as np
import pytest

from index import store
from index.files import sha256_file
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
    data, before = target.read_bytes(), target.stat()
    target.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size
    # A write moves the mtime on, though on a coarse clock not always by a visible tick: move it one second.
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
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


# --------------------------------------------------------------------------- integrity beyond checksums
def _vouch(path, rel: str) -> None:
    """Record the current bytes of ``rel`` in the manifest: what a buggy or hostile writer would leave."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"][rel] = sha256_file(path / rel)
    (path / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("content", [b"../outside\n", b".tmp-123\n", b"\n", b"two words\n", b"gen\x00eration\n",
                                     b"\xff\xfe\x00\x01 not text"])
def test_malformed_current_is_corrupt(tmp_path, content):
    save_generation(tmp_path, *_data("a"), meta={})
    (tmp_path / "CURRENT").write_bytes(content)
    with pytest.raises(IndexCorrupt, match="CURRENT does not name a generation; rebuild"):
        load_generation(tmp_path)


def test_current_naming_a_missing_generation_is_corrupt(tmp_path):
    path = save_generation(tmp_path, *_data("a"), meta={})
    (tmp_path / "CURRENT").write_text("20990101-000000.000000000-dead\n")
    with pytest.raises(IndexCorrupt, match=r"CURRENT names generation 20990101-000000\.000000000-dead, which does not"):
        load_generation(tmp_path)
    (tmp_path / "CURRENT").write_text(path.name + "\n")
    assert load_generation(tmp_path).path == path


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m.update(format_version=99), "has format version 99, this program reads version 3"),
    (lambda m: m.pop("format_version"), "has format version None"),
    (lambda m: m.update(format="another-index"), "manifest.json is not an index manifest"),
    (lambda m: m.update(files={}), "manifest lists no files"),
])
def test_unknown_manifest_is_corrupt(tmp_path, change, message):
    path = save_generation(tmp_path, *_data("a"), meta={})
    manifest = json.loads((path / "manifest.json").read_text())
    change(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match=message):
        load_generation(tmp_path)


def test_a_manifest_that_is_not_an_object_is_corrupt(tmp_path):
    path = save_generation(tmp_path, *_data("a"), meta={})
    (path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(IndexCorrupt, match="not an index manifest"):
        load_generation(tmp_path)


@pytest.mark.parametrize(("which", "message"), [
    ("chunks", r"chunk_vectors.npy has shape \(2, 8\), but tables.sqlite holds 1 passages"),
    ("sentences", r"sentence_vectors.npy has shape \(3, 8\), but tables.sqlite holds 2 sentences"),
    ("flat", r"chunk_vectors.npy has shape \(8,\), but tables.sqlite holds 1 passages"),
])
def test_vector_and_table_rows_that_disagree_are_corrupt(tmp_path, which, message):
    arts, chunks, sents, cv, sv = _data("a")
    if which == "chunks":
        cv = np.vstack([cv, cv])
    elif which == "sentences":
        sv = np.vstack([sv, sv[:1]])
    else:
        cv = cv[0]
    save_generation(tmp_path, arts, chunks, sents, cv, sv, meta={})  # every checksum is right
    with pytest.raises(IndexCorrupt, match=message):
        load_generation(tmp_path)


def _not_sqlite(file):
    file.write_bytes(b"this is not a database" * 100)


def _empty_sqlite(file):
    file.unlink()
    sqlite3.connect(file).close()


def _object_array(file):
    np.save(file, np.array([{"a": 1}], dtype=object), allow_pickle=True)


@pytest.mark.parametrize(("rel", "damage", "message"), [
    ("tables.sqlite", _not_sqlite, "tables.sqlite is unreadable"),
    ("tables.sqlite", _empty_sqlite, "tables.sqlite is unreadable .no such table"),
    ("keyword_sentences/vocab.sqlite", _not_sqlite, "keyword_sentences is unreadable"),
    ("keyword_chunks/vocab.sqlite", _empty_sqlite, "keyword_chunks is unreadable .no such table: vocab"),
    ("chunk_vectors.npy", _not_sqlite, "chunk_vectors.npy is unreadable"),
    ("sentence_vectors.npy", _object_array, "sentence_vectors.npy is unreadable"),
])
def test_unreadable_file_that_passes_its_checksum_is_corrupt(tmp_path, rel, damage, message):
    path = save_generation(tmp_path, *_data("a"), meta={})
    damage(path / rel)
    _vouch(path, rel)
    with pytest.raises(IndexCorrupt, match=message):
        load_generation(tmp_path)
