"""The hand-written pages and exports under tests/fixtures/ingest, copied into a corpus folder."""
from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest"


def fixture_corpus(tmp_path: Path, *names: str) -> Path:
    """A corpus folder under ``tmp_path`` holding the named fixture files."""
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / name, corpus / name)
    return corpus
