"""Read the corpus folder into cleaned ``Article`` objects, reporting what was removed, skipped and converted.

The formats (.txt/.md, .html/.htm, .jsonl/.json/.csv exports), legacy encodings and
duplicate handling live in ``index/ingest``; this is the entry point callers use.
"""
from __future__ import annotations

from pathlib import Path

from .ingest import Converted, CorpusReport, Removal, Skipped, load_folder
from .types import Article

__all__ = ["Converted", "CorpusReport", "Removal", "Skipped", "load_corpus"]


def load_corpus(corpus_dir: Path) -> tuple[list[Article], CorpusReport]:
    """All readable articles in ``corpus_dir`` (by file name) and the report; settings from the environment."""
    return load_folder(corpus_dir)
