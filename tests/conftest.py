"""Shared fixtures: the project corpus indexed once per session, with the real model and with a fake one.

Markers (``pytest.ini``): a test that uses the real model is marked ``integration``
automatically (it requests ``config``, ``built`` or ``engine``); the rest are unit
tests and run in seconds (``make test-fast``).

Isolation: the developer's settings never reach a test. Every environment variable
the ``Config`` reads (and any other ``QA_*``) is removed for the whole session, the
converted model and every other cache live in a session folder outside the
repository, and each test gets the environment and the FAISS thread count back as
it found them, whatever it changed.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import faiss
import pytest

from fakes import HashEmbedder
from index import Config, build, load

ROOT = Path(__file__).resolve().parent.parent
REAL_MODEL_FIXTURES = {"config", "built", "engine"}
# Settings read outside the Config that change what the code under test does. (The test suite's own
# knobs, SCREENSHOTS, CRASH_SEED and FUZZ_*, are read when their modules are imported, and stay.)
OTHER_SETTINGS = ("RAY_ADDRESS", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT")


def pytest_collection_modifyitems(items):
    for item in items:
        if REAL_MODEL_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.integration)


def settings_variables() -> set[str]:
    """Every environment variable that changes the pipeline: the Config's, ``QA_*``, and a few others."""
    names = {env for _, env, _, _ in Config.knobs()} | set(OTHER_SETTINGS)
    return names | {name for name in os.environ if name.startswith("QA_")}


def test_cache_dir(base: Path) -> Path:
    """The converted model and other rebuildable files: ``TEST_CACHE_DIR`` to share it between runs."""
    shared = os.environ.get("TEST_CACHE_DIR")
    return Path(shared).expanduser() if shared else base / "cache"


test_cache_dir.__test__ = False  # a helper, not a test


@pytest.fixture(autouse=True, scope="session")
def clean_environment(tmp_path_factory):
    """The session's environment: no developer settings, no model hub, caches and logs outside the repo.

    Subprocesses (the CLI, ``app.py``) inherit it, so they read the same cache.
    """
    base = tmp_path_factory.getbasetemp()
    cache = test_cache_dir(base)
    with pytest.MonkeyPatch.context() as mp:
        for name in settings_variables():
            mp.delenv(name, raising=False)
        mp.setenv("CACHE_DIR", str(cache))
        mp.setenv("FEEDBACK_LOG", str(base / "feedback" / "feedback.jsonl"))
        # Nothing in the test suite may reach a model hub.
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield
    if not os.environ.get("TEST_CACHE_DIR"):
        shutil.rmtree(cache, ignore_errors=True)  # ~1 GB of converted model per session


@pytest.fixture(autouse=True)
def restore_process_state():
    """Whatever a test sets in ``os.environ`` or FAISS's thread count is undone after it."""
    environ = dict(os.environ)
    threads = faiss.omp_get_max_threads()
    yield
    if dict(os.environ) != environ:
        os.environ.clear()
        os.environ.update(environ)
    faiss.omp_set_num_threads(threads)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return ROOT / "corpus"


@pytest.fixture(scope="session")
def config(tmp_path_factory, corpus_dir) -> Config:
    """The project's corpus indexed into a session temp folder (the converted model is shared)."""
    index_dir = tmp_path_factory.mktemp("index")
    return Config.from_env(corpus_dir=corpus_dir, index_dir=index_dir)


@pytest.fixture(scope="session")
def built(config) -> Config:
    build(config, progress=False, log=lambda msg: None)
    return config


@pytest.fixture(scope="session")
def engine(built):
    return load(built)


@pytest.fixture(scope="session")
def fake_model() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def fake_engine(tmp_path_factory, corpus_dir, fake_model):
    """The project's corpus indexed with the fake embedder: the whole pipeline, no model (the hand-made scorer)."""
    config = Config.from_env(corpus_dir=corpus_dir, index_dir=tmp_path_factory.mktemp("fake-index"),
                             scorer="hand")
    build(config, progress=False, log=lambda msg: None, model=fake_model)
    return load(config, model=fake_model)
