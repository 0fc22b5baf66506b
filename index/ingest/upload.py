"""Files uploaded from the chat, into the corpus folder: checked, read, named safely, written atomically.

Nothing an upload holds is trusted: its name is reduced to a plain base name, its size and
count are bounded, an archive is refused (never unpacked), and each file is first read in a
hidden staging folder by the same readers as the build. A file that yields no article
(binary, only boilerplate, an encoding that cannot be read), or whose articles are all
already indexed, never enters the corpus folder; the others are moved in with ``os.replace``,
complete and fsynced, under a name no existing file has. The caller then rebuilds the index.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..files import fsync_dir
from ..tables import ReadOnlyDb
from ..types import Article
from .article import url_key
from .folder import ARCHIVES, SUFFIXES, load_folder
from .settings import Settings

MAX_STEM_CHARS = 100
MAX_RENAMES = 1000
STAGING_PREFIX = ".upload-"  # hidden: the build never reads it


@dataclass
class Outcome:
    """What became of one uploaded file.

    ``code``: ``added`` (also while it is being checked), ``same_file`` (an identical file of that
    name is in the folder already), or why it was refused: ``too_many``, ``archive``, ``format``, ``too_large``, ``unreadable``,
    ``no_article``, ``duplicate``. ``detail``: the reader's words (English, as in the build report).
    """

    original: str  # the name it was uploaded under
    code: str
    name: str | None = None  # its name in the corpus folder
    detail: str = ""
    articles: list[Article] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # converted encoding, boilerplate removed, records skipped

    @property
    def stored(self) -> bool:
        return self.code in ("added", "same_file")


def safe_name(original: str) -> str:
    """A plain file name for ``original``: its base name (any folder, ``../``, drive or absolute path
    dropped), NFC, no control or format characters, no leading dots (hidden files), only letters,
    digits, ``-``, ``_``, ``.`` and spaces; the suffix lower-cased. Never empty."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", str(original)))[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] not in "CZ" or c == " ")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^\w.\- ]", "_", stem)
    stem = re.sub(r"\s+", " ", stem).strip(" .")[:MAX_STEM_CHARS].strip(" .") or "upload"
    suffix = re.sub(r"[^\w]", "", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def store(files: list[Path], corpus_dir: Path, settings: Settings, max_bytes: int, max_files: int,
          index_tables: Path | None = None) -> list[Outcome]:
    """Put the article files among ``files`` into ``corpus_dir``; one Outcome per file, in order.

    ``index_tables``: the live generation's ``tables.sqlite``; an upload whose articles it holds
    already (same text, or same address) is refused as a duplicate.
    """
    corpus_dir = Path(corpus_dir)
    files = [Path(f) for f in files]
    if len(files) > max_files:
        return [Outcome(f.name, "too_many", detail=f"{len(files)} > {max_files}") for f in files]
    outcomes = [_check(f, max_bytes) for f in files]
    wanted = [(o, f) for o, f in zip(outcomes, files) if o.code == "added"]
    if not wanted:
        return outcomes
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=corpus_dir))
    try:
        taken: set[str] = set()
        for outcome, path in wanted:
            data = _read(path, max_bytes)
            if data is None:
                outcome.code, outcome.detail = "unreadable", "not a readable file"
                continue
            name = safe_name(outcome.original)
            outcome.name = _existing(name, corpus_dir, data)
            if outcome.name is not None:
                outcome.code = "same_file"
                continue
            outcome.name = _free_name(name, corpus_dir, taken)
            taken.add(outcome.name)
            _write(staging / outcome.name, data)
        staged = [o for o, _ in wanted if o.code == "added"]
        if staged:
            _read_staged(staged, staging, settings, index_tables)
        moved: list[str] = []
        try:
            for outcome in staged:
                if outcome.code == "added":
                    os.replace(staging / outcome.name, corpus_dir / outcome.name)
                    moved.append(outcome.name)
        except OSError:  # all of the upload or none of it
            remove(moved, corpus_dir)
            raise
        if moved:
            fsync_dir(corpus_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return outcomes


def remove(names: list[str], corpus_dir: Path) -> None:
    """Take files an upload added out of the corpus folder again (its build failed, or left them out)."""
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            (Path(corpus_dir) / name).unlink()
    if names:
        with contextlib.suppress(OSError):
            fsync_dir(Path(corpus_dir))


def _check(path: Path, max_bytes: int) -> Outcome:
    """Refusals that need only the name and the size."""
    original = path.name
    suffix = Path(safe_name(original)).suffix.lower()
    if suffix in ARCHIVES:
        return Outcome(original, "archive", detail=suffix)
    if suffix not in SUFFIXES:
        return Outcome(original, "format", detail=suffix or original)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return Outcome(original, "unreadable", detail=exc.strerror or str(exc))
    if size > max_bytes:
        return Outcome(original, "too_large", detail=f"{size:,} bytes > {max_bytes:,}")
    return Outcome(original, "added")


def _read(path: Path, max_bytes: int) -> bytes | None:
    """The file's bytes; None for anything but a regular file (a link, a folder, a device) or a larger one."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = f.read(max_bytes + 1)
    return data if len(data) <= max_bytes else None


def _existing(name: str, corpus_dir: Path, data: bytes) -> str | None:
    """``name`` or a renamed variant of it already in the folder with exactly these bytes."""
    stem, suffix = os.path.splitext(name)
    for candidate in [name] + [f"{stem}-{n}{suffix}" for n in range(2, MAX_RENAMES)]:
        path = corpus_dir / candidate
        if not path.exists():
            return None
        if _same(path, data):
            return candidate
    return None


def _free_name(name: str, corpus_dir: Path, taken: set[str]) -> str:
    """``name``, or ``<stem>-2<suffix>``, ``-3``... when another file (or another file of the upload) has it."""
    stem, suffix = os.path.splitext(name)
    for candidate in [name] + [f"{stem}-{n}{suffix}" for n in range(2, MAX_RENAMES)]:
        if candidate not in taken and not (corpus_dir / candidate).exists():
            return candidate
    raise OSError(f"no free name for {name} in {corpus_dir}")


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _write(path: Path, data: bytes) -> None:
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _read_staged(staged: list[Outcome], staging: Path, settings: Settings, index_tables: Path | None) -> None:
    """Read the staged files as the build will; refuse those that give no new article."""
    articles, report = load_folder(staging, settings)
    indexed = _Indexed(index_tables) if index_tables else None
    try:
        for outcome in staged:
            name = outcome.name

            def mine(source: str) -> bool:
                return source == name or source.startswith((f"{name}#", f"{name}:", f"{name}["))

            outcome.articles = [a for a in articles if mine(a.source)]
            skipped = [s for s in report.skipped if mine(s.source)]
            outcome.notes += [f"converted from {c.encoding}" for c in report.converted if c.source == name]
            removed = sum(1 for r in report.removed if mine(r.source))
            if removed:
                outcome.notes.append(f"{removed} boilerplate lines removed")
            if not outcome.articles:
                outcome.code = "no_article"
                outcome.detail = "; ".join(s.reason if s.source == name else f"{s.source}: {s.reason}"
                                           for s in skipped) or "no article in it"
                continue
            outcome.notes += [f"skipped {s.source}: {s.reason}" for s in skipped]
            copies = [indexed.copy_of(a) for a in outcome.articles] if indexed else []
            if copies and all(copies):
                outcome.code, outcome.detail = "duplicate", ", ".join(dict.fromkeys(copies))
                outcome.articles = []
            elif any(copies):
                outcome.notes += [f"{a.source} is already indexed as {c}"
                                  for a, c in zip(outcome.articles, copies) if c]
    finally:
        if indexed:
            indexed.close()


class _Indexed:
    """Looks an article up among the indexed ones, by its cleaned text or its address."""

    def __init__(self, tables: Path):
        self.db = ReadOnlyDb(tables)
        columns = {name for _, name, *_ in self.db.all("PRAGMA table_info(articles)")}
        rows = self.db.all("SELECT source, url FROM articles WHERE url IS NOT NULL") if "url" in columns else []
        self.by_url = {url_key(url): source for source, url in rows}

    def copy_of(self, article: Article) -> str | None:
        found = self.db.one("SELECT source FROM articles WHERE text = ? LIMIT 1", (article.text,))
        if found:
            return found[0]
        return self.by_url.get(url_key(article.url)) if article.url else None

    def close(self) -> None:
        self.db.close()
