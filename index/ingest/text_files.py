"""``.txt`` / ``.md``: article text scraped without markup, cleaned by the hand-written line rules."""
from __future__ import annotations

from collections.abc import Iterator

from ..types import Article
from .article import make_article
from .encodings import decode
from .lines import clean
from .report import Converted, CorpusReport

SUFFIXES = (".txt", ".md")
# Part of each article checksum: a cleaning change re-embeds (the value the seed index was built with).
CLEANING_VERSION = "2"


def read(name: str, raw: bytes, report: CorpusReport) -> Iterator[Article]:
    decoded = decode(raw)
    if decoded.problem:
        report.skip(name, decoded.problem)
        return
    removed_before = len(report.removed)
    title, date, body = clean(decoded.text, name, report)
    if not body.strip():
        del report.removed[removed_before:]
        report.skip(name, "no article text")
        return
    if decoded.encoding:
        report.converted.append(Converted(name, decoded.encoding))
    yield make_article(name, title, date, body, CLEANING_VERSION.encode() + raw)
