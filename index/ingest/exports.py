"""CMS exports: ``.jsonl`` (one record a line), ``.json`` (a list of records, or an object holding
one) and ``.csv`` (a header row; the delimiter is sniffed from it). One record is one article.

A record's fields are named ``id``, ``title``, ``date``, ``url``, ``author`` and ``text`` (or
``body`` / ``content``); ``QA_INGEST_FIELDS`` names others (``settings.py``). Its article id,
the citation source, is ``<file name>#<id>``, or ``<file name>#<first 12 hex digits of the
SHA-256 of its text>`` when the record has no id: stable when records move, unique in the
folder. A body in HTML is turned into paragraphs. A record that cannot be read, has no text or
repeats an id is skipped and reported with its line (``file.jsonl:17``, ``file.csv:4``) or
position (``file.json[3]``); the rest of the file is still read.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator

import lxml.etree
import lxml.html

from ..types import Article
from .article import body_text, iso_date, make_article, one_line, paragraphs, stated_date, web_url
from .encodings import decode
from .report import Converted, CorpusReport
from .settings import Settings

SUFFIXES = (".jsonl", ".json", ".csv")
VERSION = "export-1"  # part of each record's checksum: a change of reading re-embeds
DELIMITERS = ",;\t|"
MAX_ID_CHARS = 200
_MARKUP = re.compile(r"</?(?:p|br|div|h[1-6]|li|ul|ol|blockquote|table|tr|td|span|a|strong|em|b|i|img|figure)\b"
                     r"[^>]*>", re.IGNORECASE)
_BLOCKS = ("p", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "table", "tr",
           "section", "article", "figure", "figcaption", "pre", "header", "footer")


def read(name: str, raw: bytes, report: CorpusReport, settings: Settings) -> Iterator[Article]:
    decoded = decode(raw)
    if decoded.problem:
        report.skip(name, decoded.problem)
        return
    if decoded.encoding:
        report.converted.append(Converted(name, decoded.encoding))
    suffix = name[name.rfind("."):].lower()
    records = {".jsonl": _json_lines, ".json": _json, ".csv": _csv}[suffix](decoded.text, settings)
    first_at: dict[str, str] = {}
    for where, record in records:
        if isinstance(record, str):
            report.skip(name + where, record)
            continue
        article, problem = _article(name, record, settings)
        if problem:
            report.skip(name + where, problem)
        elif article.source in first_at:
            report.skip(name + where, f"duplicate id: {article.source} was read from {name}{first_at[article.source]}")
        else:
            first_at[article.source] = where
            yield article


def _parse(text: str) -> tuple[object, str | None]:
    """(value, None) or (None, what is wrong with the JSON)."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if "\n" in text else f"column {exc.colno}"
        return None, f"broken JSON ({exc.msg}: {where})"
    except RecursionError:
        return None, "broken JSON (nested too deeply)"


def _json_lines(text: str, settings: Settings) -> Iterator[tuple[str, dict | str]]:
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            record, problem = _parse(line)
            yield f":{n}", problem or (record if isinstance(record, dict) else "not a JSON object")


def _json(text: str, settings: Settings) -> Iterator[tuple[str, dict | str]]:
    data, problem = _parse(text)
    if problem:
        yield "", problem
        return
    if isinstance(data, dict):  # {"articles": [...]}: the first list of objects it holds
        data = next((v for v in data.values() if isinstance(v, list) and any(isinstance(x, dict) for x in v)),
                    None)
    if not isinstance(data, list):
        yield "", "no list of records (expected [{...}, ...] or {\"articles\": [{...}, ...]})"
        return
    for i, record in enumerate(data):
        yield f"[{i}]", record if isinstance(record, dict) else "not a JSON object"


def _csv(text: str, settings: Settings) -> Iterator[tuple[str, dict | str]]:
    header_line = text.split("\n", 1)[0]
    known = {name.lower() for names in settings.fields.values() for name in names}

    def matches(delimiter: str) -> int:
        return sum(cell.strip().lower() in known for cell in next(csv.reader([header_line], delimiter=delimiter)))

    delimiter = max(DELIMITERS, key=matches)  # the first of equals
    if not matches(delimiter):
        yield "", f"no known column in the header (expected {', '.join(sorted(known))}; QA_INGEST_FIELDS maps others)"
        return
    csv.field_size_limit(max(csv.field_size_limit(), settings.max_bytes))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [cell.strip() for cell in next(reader)]
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f":{line}", f"unreadable CSV ({exc}); the rest of the file is skipped"
            return
        if any(cell.strip() for cell in row):
            yield f":{line}", dict(zip(header, row))
        line = reader.line_num + 1


def _field(record: dict, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` the record fills with text (or a number); field names ignore case."""
    lowered = {str(k).strip().lower(): v for k, v in record.items()}
    for name in names:
        value = record.get(name, lowered.get(name.lower()))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _article(name: str, record: dict, settings: Settings) -> tuple[Article | None, str | None]:
    def get(field: str) -> str | None:
        return _field(record, settings.fields[field])

    body = get("text")
    if body is None:
        return None, f"no text (no {' / '.join(settings.fields['text'])} field; QA_INGEST_FIELDS maps another)"
    size = len(body.encode())
    if size > settings.max_bytes:
        return None, f"text too large ({size:,} bytes > {settings.max_bytes:,}; QA_INGEST_MAX_BYTES sets the limit)"
    lines = paragraphs(_markup_text(body) if _MARKUP.search(body) else body)
    if not lines:
        return None, "no text (the text field holds only markup)"
    title = one_line(get("title")) or lines[0]
    text = body_text(title, lines)
    record_id = one_line(get("id"))[:MAX_ID_CHARS] or hashlib.sha256(text.encode()).hexdigest()[:12]
    date = iso_date(get("date")) or stated_date(text)
    url, author = web_url(get("url")), get("author")
    fingerprint = json.dumps([VERSION, record_id, title, date, url, author, text], ensure_ascii=False).encode()
    return make_article(f"{name}#{record_id}", title, date, text, fingerprint, url=url, author=author), None


def _markup_text(body: str) -> str:
    """An HTML body as text, one line per block element; scripts and styles dropped."""
    try:
        root = lxml.html.fragment_fromstring(body, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return body
    for element in root.xpath(".//script | .//style"):
        element.drop_tree()
    for element in root.iter(*_BLOCKS):
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    return root.text_content()
