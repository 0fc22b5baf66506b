"""Read the corpus folder into cleaned ``Article`` objects, reporting what was removed.

Scraped news pages carry site furniture (view counters, teaser lists, social
prompts, repeated titles). It is removed line by line so it is never quoted,
and every removal is reported with its reason.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .text import fold, normalize, text_language
from .types import Article

SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 5_000_000  # a news article is a few KB; anything bigger is not one
CLEANING_VERSION = "2"  # part of each article checksum: a cleaning change re-embeds

# dd/mm/yyyy, also as a range "12 - 13/10/2017" (the first day is the start).
_DATE = re.compile(r"\b(?:(\d{1,2})\s*[-–]\s*)?(\d{1,2})/(\d{1,2})/(\d{4})\b")
_DATE_LINE = re.compile(r"^(?:[\w ]{0,20}\|\s*)?(?:\d{1,2}:\d{2},?\s*)?\d{1,2}/\d{1,2}/\d{4}(?:\s+\d{1,2}:\d{2})?$")

# Headings that open a list of links to other articles; the list's bullets and
# their indented summaries follow.
_TEASER_HEADINGS = ("bai lien quan", "noi bat", "dung bo lo", "tin lien quan", "tin khac",
                    "doc them", "xem them", "tin cung chuyen muc", "co the ban quan tam")
# (folded, lower-cased pattern, reason)
_BOILERPLATE = [
    (re.compile(r"^theo doi .{1,40} tren$"), "social prompt"),
    (re.compile(r"^tham gia binh luan"), "social prompt"),
    (re.compile(r"fanpage|facebook|zalo|chia se bai viet"), "social prompt"),
    (re.compile(r"^powered by"), "site footer"),
    (re.compile(r"luot truy cap|thong ke truy cap|nguoi truc tuyen|^• ?(khach|thanh vien|tong)\b"), "view counter"),
    (re.compile(r"^(khach|thanh vien|tong) .*\d+$"), "view counter"),
    (re.compile(r"binh chon"), "poll widget"),
    (re.compile(r"\bgo top$"), "site navigation"),
    (re.compile(r" - anh \d+\.?$"), "image alt text"),
    (re.compile(r"^anh minh hoa\.?$"), "image alt text"),
]
MAX_BOILERPLATE_CHARS = 120
# An attribution line ("Nguồn: TTXVN"); what follows it is not the article.
_SOURCE_LINE = re.compile(r"^nguon( tin)?\s*:")


@dataclass
class Removal:
    source: str
    line: str
    reason: str


@dataclass
class Skipped:
    source: str
    reason: str


@dataclass
class CorpusReport:
    removed: list[Removal] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for r in self.removed:
            counts[r.reason] = counts.get(r.reason, 0) + 1
        parts = [f"{n} {reason}" for reason, n in sorted(counts.items())]
        return f"removed {len(self.removed)} lines" + (f" ({', '.join(parts)})" if parts else "")


def corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in Path(corpus_dir).iterdir()
                  if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("."))


def load_corpus(corpus_dir: Path) -> tuple[list[Article], CorpusReport]:
    """All readable articles in ``corpus_dir`` (sorted by file name) and the cleaning report."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    report = CorpusReport()
    articles: list[Article] = []
    seen: dict[str, str] = {}
    root = corpus_dir.resolve()
    for path in corpus_files(corpus_dir):
        if path.is_symlink() and root not in path.resolve().parents:
            report.skipped.append(Skipped(path.name, "link outside the corpus folder"))
            continue
        article, problem = read_article(path, report)
        if problem:
            report.skipped.append(Skipped(path.name, problem))
            continue
        digest = hashlib.sha256(article.text.encode()).hexdigest()
        if digest in seen:
            report.skipped.append(Skipped(path.name, f"duplicate of {seen[digest]}"))
            continue
        seen[digest] = path.name
        articles.append(article)
    return articles, report


def read_article(path: Path, report: CorpusReport) -> tuple[Article | None, str | None]:
    """(article, None) or (None, reason it was skipped)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, f"too large ({size:,} bytes > {MAX_FILE_BYTES:,})"
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"
    text, problem = decode(raw)
    if problem:
        return None, problem
    removed_before = len(report.removed)
    title, date, body = clean(text, path.name, report)
    if not body.strip():
        del report.removed[removed_before:]
        return None, "no article text"
    checksum = hashlib.sha256(CLEANING_VERSION.encode() + raw).hexdigest()
    return Article(source=path.name, title=title, date=date, text=body, checksum=checksum,
                   language=text_language(body)), None


def decode(raw: bytes) -> tuple[str, str | None]:
    if not raw.strip():
        return "", "empty file"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), None
        except UnicodeDecodeError:
            return "", "invalid UTF-16"
    if b"\x00" in raw:
        return "", "binary file (NUL bytes)"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return "", f"not UTF-8 (invalid byte at offset {exc.start}); save it as UTF-8"
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > max(10, len(text) // 100):
        return "", "binary file (control characters)"
    return text, None


def parse_date(text: str) -> str | None:
    """The first plausible dd/mm/yyyy date in the text, as ISO YYYY-MM-DD."""
    for m in _DATE.finditer(text):
        first_day, last_day, month, year = m.groups()
        day, month, year = int(first_day or last_day), int(month), int(year)
        if 1 <= day <= 31 and 1 <= month <= 12 and 1900 <= year <= 2100:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def clean(text: str, source: str, report: CorpusReport) -> tuple[str, str | None, str]:
    """(title, date, cleaned text). Kept lines are separated by blank lines."""
    text = normalize(text)
    text = "".join(c for c in text if c in "\n\t" or ord(c) >= 32)
    date = parse_date(text)
    kept: list[str] = []
    seen: set[str] = set()
    in_teasers = False

    def drop(line: str, reason: str) -> None:
        report.removed.append(Removal(source, line, reason))

    lines = text.split("\n")
    for i, raw_line in enumerate(lines):
        line = " ".join(raw_line.split())
        if not line:
            continue
        key = fold(line).lower()
        indented = raw_line[:1].isspace()
        if any(key.startswith(h) and len(key) <= len(h) + 40 for h in _TEASER_HEADINGS):
            in_teasers = True
            drop(line, "related-articles list")
            continue
        if in_teasers and (indented or line.startswith("•")):
            drop(line, "related-articles list")
            continue
        in_teasers = False
        if _DATE_LINE.match(line):
            drop(line, "date line")
            continue
        # Site furniture is short; a paragraph that merely mentions "bình chọn" stays.
        reason = None if len(line) > MAX_BOILERPLATE_CHARS else next(
            (r for pattern, r in _BOILERPLATE if pattern.search(key)), None)
        if reason:
            drop(line, reason)
            continue
        if _SOURCE_LINE.match(key) and len(line) <= MAX_BOILERPLATE_CHARS:
            drop(line, "source attribution")
            for rest in lines[i + 1:]:
                if rest.strip():
                    drop(" ".join(rest.split()), "trailing content after the source line")
            break
        if line in seen:
            drop(line, "duplicate line")
            continue
        seen.add(line)
        kept.append(line)

    # A signature ("Nhật Nam") or stray counter at the very end is not article text.
    while kept and len(kept[-1].split()) <= 3 and not re.search(r"[.!?…:”\"]$", kept[-1]):
        drop(kept.pop(), "signature or trailing fragment")

    title = kept[0] if kept else ""
    return title, date, "\n\n".join(kept)
