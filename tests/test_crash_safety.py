"""Crash safety: killed builds, damaged generations, and the app following a rebuild.

* ``kill -9`` of ``python -m index build --force`` held at each stage of the build
  (``index/stages.py``: model loaded, a shard saved, the new generation written,
  renamed into place, CURRENT switched) leaves an index that verifies, is the
  previous generation before the switch and the complete new one after it,
  answers verbatim, and that the next build finishes over. Kills at random
  moments run under ``make stress`` (``tests/stress/test_stress_crash.py``).
* Any damaged generation file makes ``load()`` raise ``IndexCorrupt`` naming the
  file; the CLI exits 1 with that message and how to rebuild; ``build`` (without
  ``--force``) repairs it; the app refuses it and rebuilds, or exits cleanly.
* Hot reload: the app keeps answering from the old generation while a rebuild
  runs and answers from the new one as soon as CURRENT switches, without restart.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import app
from checks import assert_verbatim
from crash_trials import (BOUND, ROOT, SMALL_QUESTION, check_trial, engine_for, held_label, run_kill_trial,
                          small_corpus)
from index import Config, LiveEngine, answer, build, prepare, stages
from index.store import IndexCorrupt, current_path, load_generation

@pytest.fixture(scope="module")
def small(tmp_path_factory, engine):
    """A two-article corpus and its built index (the session's model is reused)."""
    tmp = tmp_path_factory.mktemp("small")
    corpus = small_corpus(tmp / "corpus")
    config = engine.config.with_(corpus_dir=corpus, index_dir=tmp / "index")
    build(config, progress=False, log=lambda m: None)
    return config


# --------------------------------------------------------------------------- kill -9
# Where the build is held and killed, and which generation must be live afterwards.
KILL_POINTS = [("model-loaded", "previous"), ("shard:1", "previous"), ("generation-written", "previous"),
               ("generation-renamed", "previous"), ("switched", "new")]


def test_kill_points_cover_every_stage():
    assert {hold.partition(":")[0] for hold, _ in KILL_POINTS} == set(stages.STAGES)


@pytest.mark.parametrize(("hold", "expected"), KILL_POINTS)
def test_kill_at_each_stage_leaves_a_loadable_index(small, engine, tmp_path, hold, expected):
    counts = load_generation(small.index_dir).manifest["counts"]
    trial = run_kill_trial(small.corpus_dir, small.index_dir, tmp_path, hold=hold)
    assert trial.exited is None and trial.stages[-1] == held_label(hold)
    check_trial(trial, engine.model, small, counts, expect=expected)


# --------------------------------------------------------------------------- damaged generations
def _damaged_copy(small: Config, tmp: Path, rel: str, damage: str) -> Config:
    index = tmp / "index"
    shutil.copytree(small.index_dir, index)
    target = current_path(index) / rel
    data = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(data[: len(data) // 2])
    else:
        i = len(data) // 2
        target.write_bytes(data[:i] + bytes([data[i] ^ 0x10]) + data[i + 1:])
    return small.with_(index_dir=index)


GENERATION_FILES = ["tables.sqlite", "chunk_vectors.npy", "sentence_vectors.npy"]


@pytest.mark.parametrize("damage", ["truncate", "bitflip"])
@pytest.mark.parametrize("rel", GENERATION_FILES + ["keyword_chunks", "keyword_sentences"])
def test_damaged_file_raises_index_corrupt(small, tmp_path, rel, damage):
    if rel.startswith("keyword"):  # every file of the bm25s folders is checksummed too
        folder = current_path(small.index_dir) / rel
        rel = str(max((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
                  .relative_to(folder.parent))
    config = _damaged_copy(small, tmp_path, rel, damage)
    with pytest.raises(IndexCorrupt, match=r"fails its checksum") as err:
        load_generation(config.index_dir)
    assert rel in str(err.value)


def test_truncated_manifest_is_corrupt(small, tmp_path):
    config = _damaged_copy(small, tmp_path, "manifest.json", "truncate")
    with pytest.raises(IndexCorrupt, match="manifest is not valid JSON"):
        load_generation(config.index_dir)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "index", *args], cwd=ROOT, capture_output=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_cli_refuses_damaged_index_and_build_repairs_it(small, tmp_path):
    config = _damaged_copy(small, tmp_path, "chunk_vectors.npy", "bitflip")
    for args in (["info"], ["ask", SMALL_QUESTION]):
        out = _cli(*args, "--index", str(config.index_dir))
        err = out.stderr.decode()
        assert out.returncode == 1, err
        assert "chunk_vectors.npy fails its checksum" in err and "python -m index build" in err
        assert "Traceback" not in err
    # `build` without --force notices the damage instead of reporting "up to date".
    logs: list[str] = []
    result = build(config, progress=False, log=logs.append)
    assert result.generation is not None
    assert any("fails its checksum" in m for m in logs)
    load_generation(config.index_dir)


def test_damaged_generation_is_refused_and_rebuilt(small, engine, tmp_path, capsys):
    config = _damaged_copy(small, tmp_path, "tables.sqlite", "truncate")
    damaged = current_path(config.index_dir).name
    engine = prepare(config, model=engine.model)
    assert engine.generation.name != damaged
    assert "tables.sqlite fails its checksum" in capsys.readouterr().err


def test_app_main_exits_cleanly_when_it_cannot_rebuild(small, engine, tmp_path, monkeypatch, capsys):
    config = _damaged_copy(small, tmp_path, "tables.sqlite", "bitflip")
    monkeypatch.setenv("INDEX_DIR", str(config.index_dir))
    monkeypatch.setenv("CORPUS_DIR", str(tmp_path / "no-such-corpus"))
    served = []
    monkeypatch.setattr(app, "launch", lambda demo, *a, **k: served.append(demo))
    assert app.main() == 1
    assert len(served) == 1  # the page is served first; the failed load then stops the server
    err = capsys.readouterr().err
    assert "python -m index build --force" in err and "Traceback" not in err


# --------------------------------------------------------------------------- hot reload
NEW_SOURCE = "950_quokkasoft.txt"
NEW_ARTICLE = """Quokkasoft công bố báo cáo lỗ hổng bảo mật năm 2025

Ngày 03/03/2025, công ty Quokkasoft công bố báo cáo thường niên về an toàn thông tin.

Theo báo cáo, các chuyên gia của Quokkasoft đã phát hiện 4.321 lỗ hổng bảo mật trong các hệ thống ngân hàng.

Quokkasoft khuyến nghị các ngân hàng cập nhật phần mềm thường xuyên.
"""
NEW_QUESTION = "Quokkasoft đã phát hiện bao nhiêu lỗ hổng bảo mật?"


def test_app_follows_a_rebuild_without_restart(small, engine, tmp_path, monkeypatch):
    from gradio_client import Client

    from app_fixtures import serve

    corpus = tmp_path / "corpus"
    shutil.copytree(small.corpus_dir, corpus)
    index = tmp_path / "index"
    shutil.copytree(small.index_dir, index)
    config = small.with_(corpus_dir=corpus, index_dir=index)
    old = engine_for(index, engine.model, config)
    with serve(old) as url:
        client = Client(url, verbose=False)
        before = client.predict(NEW_QUESTION, api_name="/ask")
        assert all(c["source"] != NEW_SOURCE for c in before["citations"])

        (corpus / NEW_SOURCE).write_text(NEW_ARTICLE, encoding="utf-8")
        # The rebuild stops with its new generation complete in generations/, CURRENT not yet switched,
        # until the questions below have been answered.
        renamed, release = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def hold(stage: str, count: int | None = None) -> None:
            if stage == "generation-renamed":
                renamed.set()
                assert release.wait(BOUND), "the test never let the rebuild go on"

        monkeypatch.setattr(stages, "reached", hold)

        def rebuild():
            try:
                build(config, progress=False, log=lambda m: None)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                renamed.set()

        worker = threading.Thread(target=rebuild)
        worker.start()
        try:
            assert renamed.wait(BOUND) and not errors, errors
            assert current_path(index).name == old.generation.name
            assert len(list((index / "generations").iterdir())) == 2  # the old one and the complete new one
            during = client.predict(SMALL_QUESTION, api_name="/ask")
            assert not during["abstained"] and "error" not in during, during
            during = client.predict(NEW_QUESTION, api_name="/ask")  # the new article is not live yet
            assert "error" not in during and all(c["source"] != NEW_SOURCE for c in during["citations"]), during
        finally:
            release.set()
            worker.join(timeout=BOUND)
        assert not errors and not worker.is_alive()

        after = client.predict(NEW_QUESTION, api_name="/ask")
        assert not after["abstained"], after
        assert after["citations"][0]["source"] == NEW_SOURCE and "4.321" in after["answer"]
        live = engine_for(index, engine.model, config)
        assert_verbatim(live.generation.articles, after)
        # An old question still works on the new generation.
        assert not client.predict(SMALL_QUESTION, api_name="/ask")["abstained"]


def test_app_keeps_old_generation_when_new_one_is_damaged(small, engine, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(small.index_dir, index)
    config = small.with_(index_dir=index)
    old = engine_for(index, engine.model, config)
    # A complete-looking generation with a damaged file becomes CURRENT.
    bad = index / "generations" / (old.generation.name + "-bad")
    shutil.copytree(old.generation.path, bad)
    (bad / "tables.sqlite").write_bytes(b"{}\n")
    (index / "CURRENT").write_text(bad.name + "\n", encoding="utf-8")
    live = LiveEngine(old)
    assert live.get() is old and live.get() is old  # refused once, old engine kept
    d = answer(live.get(), SMALL_QUESTION).to_dict()
    assert not d["abstained"]
