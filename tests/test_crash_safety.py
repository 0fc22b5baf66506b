"""Crash safety: killed builds, damaged generations, and the app following a rebuild.

* ``kill -9`` of ``python -m index build --force`` at chosen moments (model load,
  encoding, writing the new generation, switching CURRENT) always leaves an
  index that loads and answers: the previous generation or a complete new one.
  A few trials run here; ``tests/stress/test_stress_crash.py`` runs 20+.
* Any damaged generation file makes ``load()`` raise ``IndexCorrupt`` naming the
  file; the CLI exits 1 with that message and how to rebuild; ``build`` (without
  ``--force``) repairs it; the app refuses it and rebuilds, or exits cleanly.
* Hot reload: the app keeps answering from the old generation while a rebuild
  runs and answers from the new one as soon as CURRENT switches, without restart.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import app
from checks import assert_verbatim
from index import Config, Engine, LiveEngine, answer, build, load, prepare
from index.store import IndexCorrupt, current_path, load_generation

ROOT = Path(__file__).resolve().parent.parent
SMALL_CORPUS = ["002_259c0121d269dcd6.txt", "003_8bcb076a6ad5250c.txt"]
SMALL_QUESTION = "Ai dẫn đầu đoàn Việt Nam tại SICW 2022?"
SMALL_SOURCE = "003_8bcb076a6ad5250c.txt"
SEED = int(os.environ.get("CRASH_SEED", "20250115"))


# --------------------------------------------------------------------------- helpers (also used by tests/stress)
def small_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in SMALL_CORPUS:
        shutil.copy(ROOT / "corpus" / name, folder / name)
    return folder


def engine_for(index_dir: Path, model, config: Config) -> Engine:
    """An engine over the live generation of ``index_dir`` reusing an already loaded model."""
    return load(config.with_(index_dir=index_dir), model=model)


@dataclass
class Trial:
    mode: str
    delay: float
    index_dir: Path
    previous: str
    killed_after: float = 0.0
    exited: int | None = None  # return code when the build finished before the kill
    outcome: str = ""  # "previous" | "new"


def run_kill_trial(corpus: Path, base_index: Path, work: Path, mode: str, delay: float,
                   timeout: float = 240.0) -> Trial:
    """Copy ``base_index`` and SIGKILL a forced rebuild into it at the moment ``mode``/``delay`` names.

    mode "time": ``delay`` seconds after start; "encode": ``delay`` after the progress bar
    appears; "write": ``delay`` after the temporary generation folder appears; "switch":
    ``delay`` after the new generation folder is renamed into place (before/while CURRENT moves).
    """
    index = work / "index"
    shutil.copytree(base_index, index)
    previous = current_path(index).name
    trial = Trial(mode, delay, index, previous)
    cmd = [sys.executable, "-m", "index", "build", "--force", "--corpus", str(corpus), "--out", str(index)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    t0 = time.monotonic()
    deadline = t0 + timeout
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen_bar = threading.Event()

    def drain():  # keep stderr flowing; note when encoding starts
        while True:
            chunk = os.read(proc.stderr.fileno(), 65536)
            if not chunk:
                return
            if b"encoding" in chunk:
                seen_bar.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()

    def trigger() -> bool:
        if mode == "time":
            return True
        if mode == "encode":
            return seen_bar.is_set()
        if mode == "write":
            return any(index.glob(".tmp-*"))
        if mode == "switch":
            return any(p.name != previous for p in (index / "generations").iterdir())
        raise ValueError(mode)

    try:
        while not trigger() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        end = time.monotonic() + delay
        while time.monotonic() < end and proc.poll() is None:
            time.sleep(0.001)
        if proc.poll() is None:
            proc.kill()  # SIGKILL
        else:
            trial.exited = proc.returncode
        trial.killed_after = time.monotonic() - t0
        assert time.monotonic() < deadline, f"trial {mode} timed out"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        reader.join(timeout=10)
        proc.stderr.close()
    return trial


def check_trial(trial: Trial, model, config: Config, expected_counts: dict) -> Trial:
    """The index loads, is the previous or a complete new generation, and answers."""
    gen = load_generation(trial.index_dir)  # verifies every checksum
    if gen.name == trial.previous:
        trial.outcome = "previous"
    else:
        trial.outcome = "new"
        assert gen.manifest["counts"] == expected_counts
    assert trial.exited in (None, 0)
    engine = engine_for(trial.index_dir, model, config)
    d = answer(engine, SMALL_QUESTION).to_dict()
    assert not d["abstained"] and d["citations"][0]["source"] == SMALL_SOURCE
    assert_verbatim(engine.generation.articles, d)
    return trial


@pytest.fixture(scope="module")
def small(tmp_path_factory, engine):
    """A two-article corpus and its built index (the session's model is reused)."""
    tmp = tmp_path_factory.mktemp("small")
    corpus = small_corpus(tmp / "corpus")
    config = engine.config.with_(corpus_dir=corpus, index_dir=tmp / "index")
    build(config, progress=False, log=lambda m: None)
    return config


# --------------------------------------------------------------------------- kill -9
def test_kill_during_build_leaves_a_loadable_index(small, engine, tmp_path):
    """Four SIGKILLs, two builds at a time: start-up, model load, encoding, writing (more under make stress)."""
    rng = random.Random(SEED)
    plan = [("write", rng.uniform(0, 0.03)), ("time", rng.uniform(0.2, 1.5)), ("time", rng.uniform(4, 10)),
            ("encode", rng.uniform(0, 0.5))]
    counts = load_generation(small.index_dir).manifest["counts"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run_kill_trial, small.corpus_dir, small.index_dir, tmp_path / f"t{i}", m, d)
                   for i, (m, d) in enumerate(plan)]
        trials = [f.result(timeout=600) for f in futures]
    for trial in trials:
        check_trial(trial, engine.model, small, counts)
    outcomes = {t.mode: t.outcome for t in trials}
    assert outcomes["time"] == "previous" and outcomes["encode"] == "previous"
    assert outcomes["write"] == "previous"  # the new folder was not complete yet


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


def test_app_follows_a_rebuild_without_restart(small, engine, tmp_path):
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
        done = threading.Event()
        errors: list[BaseException] = []

        def rebuild():
            try:
                build(config, progress=False, log=lambda m: None)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                done.set()

        worker = threading.Thread(target=rebuild)
        worker.start()
        during = 0
        while not done.is_set() and during < 50:  # the old generation keeps answering
            d = client.predict(SMALL_QUESTION, api_name="/ask")
            assert not d["abstained"] and "error" not in d
            during += 1
        worker.join(timeout=300)
        assert not errors and done.is_set()

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
