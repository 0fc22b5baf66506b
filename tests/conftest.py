"""Shared fixtures: one real index per test session, built from the project corpus."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from index import Config, build, load

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.fixture(autouse=True, scope="session")
def _offline_hub():
    # Nothing in the test suite may reach a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
