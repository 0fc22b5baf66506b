"""What every format does to become an ``Article``: paragraphs, title, link back, checksum."""
from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

from ..text import normalize, text_language
from ..types import Article
from .lines import parse_date

_SPACE = re.compile(r"\s+")
# An ISO date, alone or before a time.
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T ])")
DATE_SCAN_CHARS = 1000  # a date the text states sits by its title


def paragraphs(text: str) -> list[str]:
    """The non-empty lines of ``text``: NFC, no control characters, spaces collapsed."""
    lines = (_SPACE.sub(" ", "".join(c for c in line if ord(c) >= 32)).strip() for line in normalize(text).split("\n"))
    return [line for line in lines if line]


def one_line(text: str | None) -> str:
    """A title, author or id as one normalised line ("" for none)."""
    return " ".join(paragraphs(text or ""))


def body_text(title: str, lines: list[str]) -> str:
    """Paragraphs separated by blank lines, as the line cleaner writes them, opening with the title."""
    if title and (not lines or lines[0] != title):
        lines = [title, *lines]
    return "\n\n".join(lines)


def iso_date(value) -> str | None:
    """An ISO (``2024-03-15``, ``2024-03-15T08:30:00+07:00``) or dd/mm/yyyy date as YYYY-MM-DD."""
    if not isinstance(value, str):
        return None
    m = _ISO_DATE.match(value.strip())
    if m:
        year, month, day = map(int, m.groups())
        return f"{year:04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else None
    return parse_date(value)


def stated_date(text: str) -> str | None:
    """The first dd/mm/yyyy date near the start of an article's text."""
    return parse_date(text[:DATE_SCAN_CHARS])


def web_url(value) -> str | None:
    """``value`` when it is an absolute http(s) address: anything else (``javascript:``, relative) is no link."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
        valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a malformed port or IPv6 address
        return None
    return value if valid and not _SPACE.search(value) else None


def url_key(url: str) -> str:
    """What makes two addresses the same article: scheme, host case, default port, fragment and
    trailing slash do not count."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = f":{parts.port}" if parts.port not in (None, 80, 443) else ""
    return urlunsplit(("", host + port, parts.path.rstrip("/") or "/", parts.query, ""))


def make_article(source: str, title: str, date: str | None, text: str, fingerprint: bytes,
                 url: str | None = None, author: str | None = None) -> Article:
    """``fingerprint`` is what the article was made from (with the reader's version): unchanged, not re-embedded."""
    return Article(source=source, title=title, date=date, text=text,
                   checksum=hashlib.sha256(fingerprint).hexdigest(), language=text_language(text),
                   url=url, author=one_line(author) or None)
