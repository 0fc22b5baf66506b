"""``LiveEngine`` across rebuilds, with the fake embedder (seconds, no model).

* A generation built with another model is served only with that model: the
  configured one is loaded, and refused (the old engine kept) when it is not
  the one the generation was built with.
* Threads asking during a reload wait for the one load and all get the new engine.
* An engine whose generation is pruned by two quick rebuilds keeps answering:
  its SQLite connections and memory maps hold the deleted files open.
* A CURRENT that names no generation leaves the old engine serving.
"""
from __future__ import annotations

import shutil
import threading

import pytest

import index.engine
from checks import assert_verbatim
from fakes import HashEmbedder
from index import Config, LiveEngine, answer, build, load
from index.store import current_path

ARTICLES = ["003_8bcb076a6ad5250c.txt", "004_11babb57b19a238d.txt"]
QUESTION = "Việt Nam có bao nhiêu người sử dụng internet?"
SOURCE = "004_11babb57b19a238d.txt"
BOUND = 120.0  # seconds: generous, only reached when something is stuck


class OtherEmbedder(HashEmbedder):
    """Another model: a different id (its vectors happen to be the same, so answers can be compared)."""

    model_id = "test-hash-embedder-other"


@pytest.fixture
def setup(tmp_path, corpus_dir, fake_model):
    """(config, live engine) over a two-article corpus built with the fake model."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ARTICLES:
        shutil.copy(corpus_dir / name, corpus / name)
    config = Config.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", scorer="hand")
    build(config, progress=False, log=lambda m: None, model=fake_model)
    return config, LiveEngine(load(config, model=fake_model))


def rebuild(config: Config, model) -> str:
    result = build(config, force=True, progress=False, log=lambda m: None, model=model)
    assert result.generation
    return result.generation


def answers(engine) -> dict:
    d = answer(engine, QUESTION).to_dict()
    assert not d["abstained"] and d["citations"][0]["source"] == SOURCE, d
    assert_verbatim(engine.generation.articles, d)
    d.pop("timings_ms")
    return d


def test_generation_of_another_model_is_served_with_that_model(setup, monkeypatch):
    config, live = setup
    old = live.get()
    other = OtherEmbedder()
    loads = []
    monkeypatch.setattr(index.engine, "load_model", lambda c: loads.append(c) or other)  # the configured model
    new = rebuild(config, other)
    engine = live.get()
    assert engine.generation.name == new and engine.model is other and engine.model_id == other.model_id
    assert loads == [config] and live.get() is engine
    assert answers(engine) == answers(old)


def test_generation_of_another_model_is_refused_when_the_configured_model_differs(setup, monkeypatch, capsys):
    config, live = setup
    old = live.get()
    loads = []
    monkeypatch.setattr(index.engine, "load_model", lambda c: loads.append(c) or HashEmbedder())
    new = rebuild(config, OtherEmbedder())
    assert live.get() is old and live.get() is old  # refused once: the model is not loaded again
    assert len(loads) == 1
    err = capsys.readouterr().err
    assert f"index generation {new} refused, still serving {old.generation.name}" in err
    assert "built with the model test-hash-embedder-other, questions are embedded with test-hash-embedder-1" in err
    answers(old)


def test_concurrent_gets_during_a_reload_all_get_the_new_engine(setup, fake_model, monkeypatch):
    config, live = setup
    old = live.get()
    new = rebuild(config, fake_model)
    threads = 8
    reads, loads = [], []
    read_all = threading.Condition()
    real_current_path, real_load_generation = index.engine.current_path, index.engine.load_generation

    def counting_current_path(index_dir):
        path = real_current_path(index_dir)
        with read_all:
            reads.append(path.name)
            read_all.notify_all()
        return path

    def load_once_all_have_read(index_dir):
        # The reload finishes only after every thread has seen the new CURRENT: they all ask during it.
        loads.append(index_dir)
        with read_all:
            assert read_all.wait_for(lambda: len(reads) >= threads, BOUND), reads
        return real_load_generation(index_dir)

    monkeypatch.setattr(index.engine, "current_path", counting_current_path)
    monkeypatch.setattr(index.engine, "load_generation", load_once_all_have_read)
    start = threading.Barrier(threads)
    got, errors = [None] * threads, []

    def ask(i: int) -> None:
        try:
            start.wait(BOUND)
            got[i] = live.get()
            answers(got[i])
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=ask, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(BOUND)
    assert not errors and not any(w.is_alive() for w in workers), errors
    assert reads == [new] * threads and len(loads) == 1
    assert all(engine is got[0] for engine in got) and got[0] is not old and got[0].generation.name == new


def test_engine_whose_generation_is_pruned_keeps_answering(setup, fake_model):
    config, live = setup
    held = live.get()
    rebuild(config, fake_model)
    latest = rebuild(config, fake_model)  # keeps two generations: the one `held` reads is deleted
    assert not held.generation.path.exists()
    # Nothing was asked through `held` before the deletion: the rows it quotes are read from the deleted files.
    assert answers(held) == answers(load(config, model=fake_model))
    assert live.get().generation.name == latest


@pytest.mark.parametrize("content", [b"\xff\xfe not text", b"../elsewhere\n", b"20990101-000000.000000000-dead\n"])
def test_a_current_that_names_no_generation_keeps_the_old_engine_until_a_build_repairs_it(setup, fake_model,
                                                                                           content):
    config, live = setup
    old = live.get()
    (config.index_dir / "CURRENT").write_bytes(content)
    assert live.get() is old
    answers(old)
    logs = []
    result = build(config, progress=False, log=logs.append, model=fake_model)  # without --force
    assert result.generation and any("does not" in m and "rebuild" in m for m in logs), logs
    assert current_path(config.index_dir).name == result.generation and live.get().generation.name == result.generation
