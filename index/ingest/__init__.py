"""Ingestion: a folder of articles in any supported format to cleaned ``Article`` objects and a report.

One module per format (``text_files``: .txt/.md with the hand-written line cleaner of ``lines``;
``html``: .html/.htm with trafilatura and htmldate; ``exports``: .jsonl/.json/.csv records),
``encodings`` for legacy Vietnamese encodings, ``folder`` to walk the folder and drop duplicates.
"""
from .folder import SUFFIXES, load_folder
from .report import Converted, CorpusReport, Removal, Skipped
from .settings import Settings

__all__ = ["SUFFIXES", "Converted", "CorpusReport", "Removal", "Settings", "Skipped", "load_folder"]
