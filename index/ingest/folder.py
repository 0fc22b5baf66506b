"""A corpus folder to articles: each file read by its format's reader, duplicates dropped, all reported."""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..types import Article
from . import exports, html, text_files
from .article import url_key
from .report import CorpusReport
from .settings import Settings

# Never unpacked: an archive's members would bypass the size, link and format checks.
ARCHIVES = (".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".zst", ".lz", ".lzma", ".z", ".cab")
SUFFIXES = text_files.SUFFIXES + html.SUFFIXES + exports.SUFFIXES


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The files ingestion looks at (articles, exports, archives to report); others are not articles."""
    return sorted(p for p in Path(corpus_dir).iterdir()
                  if not p.name.startswith(".") and p.suffix.lower() in SUFFIXES + ARCHIVES and p.is_file())


def load_folder(corpus_dir: Path, settings: Settings) -> tuple[list[Article], CorpusReport]:
    """All readable articles in ``corpus_dir`` (by file name, then record order) and the report.

    Of articles with the same cleaned text or the same address, the first is kept.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    report = CorpusReport()
    articles: list[Article] = []
    by_text: dict[str, str] = {}
    by_url: dict[str, str] = {}
    root = corpus_dir.resolve()
    for path in corpus_files(corpus_dir):
        raw = _read(path, root, settings, report)
        if raw is None:
            continue
        suffix = path.suffix.lower()
        if suffix in exports.SUFFIXES:
            found = exports.read(path.name, raw, report, settings)
        elif suffix in html.SUFFIXES:
            found = html.read(path.name, raw, report)
        else:
            found = text_files.read(path.name, raw, report)
        try:
            for article in found:
                _keep(article, articles, by_text, by_url, report)
        except Exception as exc:  # a parser's failure on one hostile file must not stop the build
            report.skip(path.name, f"could not be read ({type(exc).__name__}: {exc})")
    return articles, report


def _keep(article: Article, articles: list[Article], by_text: dict[str, str], by_url: dict[str, str],
          report: CorpusReport) -> None:
    """Add ``article`` unless an article already kept has its text or its address."""
    digest = hashlib.sha256(article.text.encode()).hexdigest()
    key = url_key(article.url) if article.url else None
    if digest in by_text:
        report.skip(article.source, f"duplicate of {by_text[digest]}")
    elif key in by_url:
        report.skip(article.source, f"duplicate of {by_url[key]} (same URL {article.url})")
    else:
        by_text[digest] = article.source
        if key:
            by_url[key] = article.source
        articles.append(article)


def _read(path: Path, root: Path, settings: Settings, report: CorpusReport) -> bytes | None:
    """The file's bytes, or None with the reason it is skipped in the report."""
    suffix = path.suffix.lower()
    if suffix in ARCHIVES:
        report.skip(path.name, f"archive ({suffix}): never unpacked; extract its articles into the corpus folder")
        return None
    if path.is_symlink() and root not in path.resolve().parents:
        report.skip(path.name, "link outside the corpus folder")
        return None
    export = suffix in exports.SUFFIXES
    limit = settings.max_export_bytes if export else settings.max_bytes
    try:
        size = path.stat().st_size
        if size > limit:
            setting = "QA_INGEST_MAX_EXPORT_BYTES" if export else "QA_INGEST_MAX_BYTES"
            report.skip(path.name, f"too large ({size:,} bytes > {limit:,}; {setting} sets the limit)")
            return None
        return path.read_bytes()
    except OSError as exc:
        report.skip(path.name, f"unreadable ({exc.strerror or exc})")
        return None
