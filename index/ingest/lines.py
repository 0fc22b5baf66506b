"""The hand-written line cleaner, for article text scraped without markup (.txt / .md).

Scraped news pages carry site furniture (view counters, teaser lists, social
prompts, repeated titles). It is removed line by line so it is never quoted,
and every removal is reported with its reason. Pages with markup get
trafilatura instead (``html.py``).
"""
from __future__ import annotations

import re

from ..text import fold, normalize
from .report import CorpusReport, Removal

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
