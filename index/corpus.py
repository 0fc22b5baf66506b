"""Read the corpus folder into cleaned ``Article`` objects, reporting what was removed, skipped and converted.

The formats (.txt/.md, .html/.htm, .jsonl/.json/.csv exports), legacy encodings and
duplicate handling live in ``index/ingest``; this is the entry point callers use.
"""
from __future__ import annotations

from pathlib import Path

from .config import Config
from .ingest import Converted, CorpusReport, Removal, Settings, Skipped, load_folder
from .types import Article

__all__ = ["Converted", "CorpusReport", "Removal", "Settings", "Skipped", "load_corpus"]


def load_corpus(corpus_dir: Path, settings: Settings | None = None) -> tuple[list[Article], CorpusReport]:
    """All readable articles in ``corpus_dir`` (by file name) and the report.

    ``settings``: the ingestion limits and export field names, ``Settings.from_config(config)``;
    without them, those of ``Config.from_env()`` (defaults and ``QA_INGEST_*``).
    """
    return load_folder(corpus_dir, settings or Settings.from_config(Config.from_env()))
