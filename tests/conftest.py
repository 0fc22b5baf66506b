"""Shared fixtures: the project corpus indexed once per session, with the real model and with a fake one.

Markers (``pytest.ini``): a test that uses the real model is marked ``integration``
automatically (it requests ``config``, ``built`` or ``engine``); the rest are unit
tests and run in seconds (``make test-fast``).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from fakes import HashEmbedder
from index import Config, build, load

ROOT = Path(__file__).resolve().parent.parent
REAL_MODEL_FIXTURES = {"config", "built", "engine"}


def pytest_collection_modifyitems(items):
    for item in items:
        if REAL_MODEL_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.integration)


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


@pytest.fixture(autouse=True, scope="session")
def _offline_hub():
    # Nothing in the test suite may reach a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
