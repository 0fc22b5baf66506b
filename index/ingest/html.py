"""``.html`` / ``.htm``: a saved news page. trafilatura finds the main text (navigation, related
links, comments and cookie banners are left out), htmldate the publication date; title, author
and the page's own address come from its metadata.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import htmldate
import lxml.etree
import lxml.html
import trafilatura

from ..types import Article
from .article import body_text, make_article, one_line, paragraphs, stated_date, web_url
from .encodings import decode
from .report import Converted, CorpusReport

SUFFIXES = (".html", ".htm")
# Part of each page's checksum: a change of extraction (ours or trafilatura's) re-embeds.
VERSION = f"html-1/trafilatura-{trafilatura.__version__}/htmldate-{htmldate.__version__}"
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
# lxml refuses a str that still declares a byte encoding.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def read(name: str, raw: bytes, report: CorpusReport) -> Iterator[Article]:
    declared = _CHARSET.search(raw[:4096])
    decoded = decode(raw, declared.group(1).decode("ascii") if declared else None)
    if decoded.problem:
        report.skip(name, decoded.problem)
        return
    page = _XML_DECLARATION.sub("", decoded.text, count=1)
    # Precision over recall: a page that is only navigation and banners yields nothing, not its menu.
    doc = trafilatura.bare_extraction(page, with_metadata=True, include_comments=False, include_tables=True,
                                      favor_precision=True, deduplicate=False)
    lines = paragraphs(doc.text or "") if doc is not None else []
    if not lines:
        report.skip(name, "no main text: the page holds only navigation, links or other boilerplate")
        return
    title = one_line(doc.title) or lines[0]
    text = body_text(title, lines)
    date = (htmldate.find_date(page, original_date=True, extensive_search=False)
            or stated_date(text))
    if decoded.encoding:
        report.converted.append(Converted(name, decoded.encoding))
    yield make_article(name, title, date, text, VERSION.encode() + raw,
                       url=web_url(doc.url) or _declared_url(page), author=doc.author)


def _declared_url(page: str) -> str | None:
    """The page's address from <link rel=canonical>, else og:url, read more leniently than trafilatura
    does (any case, anywhere in the page, ``name=`` for ``property=``)."""
    try:
        tree = lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return None
    canonical = [link.get("href") for link in tree.iter("link")
                 if "canonical" in (link.get("rel") or "").lower().split()]
    og = [meta.get("content") for meta in tree.iter("meta")
          if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:url"]
    return next((url for url in map(web_url, canonical + og) if url), None)
