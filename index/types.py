"""The data that flows through the pipeline.

Offsets (``start``/``end``) are always character offsets into ``Article.text``,
the cleaned article text stored in the index, so ``article.text[start:end]``
is exactly the quoted text.
"""
from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import quote as percent_encode, urlsplit


@dataclass(frozen=True)
class Article:
    source: str  # file name in the corpus folder (``<file>#<id>`` for an export record): id and citation source
    title: str
    date: str | None  # ISO YYYY-MM-DD when the text states one
    text: str  # cleaned text; every offset points into it
    checksum: str  # sha256 of what it was read from (file bytes, record) and how: unchanged, not re-embedded
    language: str = "vi"  # "vi" | "en", detected from the text: selects tokenisation and translation
    url: str | None = None  # the original page's http(s) address, when the source names one
    author: str | None = None


@dataclass(frozen=True)
class Chunk:
    id: str  # "<source>#<n>"
    source: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    id: int  # row in the sentence table and the sentence FAISS index
    source: str
    chunk_id: str  # the first chunk containing it
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    """A passage returned by retrieval, with its fused score and per-retriever ranks."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None


@dataclass(frozen=True)
class Quote:
    source: str
    title: str
    date: str | None
    text: str  # == article.text[start:end]
    start: int
    end: int
    score: float
    # Span inside the article (absolute offsets) that answers the question type, if found.
    highlight_start: int | None = None
    highlight_end: int | None = None
    url: str | None = None  # the article's original address
    probability: float | None = None  # the learned scorer's chance that it answers (None: hand-made score)

    @property
    def link(self) -> str | None:
        """The article's address, scrolled to the quote: a ``#:~:text=`` text fragment."""
        return None if self.url is None else text_fragment_url(self.url, self.text)


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_FILTER_SOURCES = 1000  # a selection longer than this is a date range or a domain, not a list
MAX_SOURCE_CHARS = 2048


class BadFilter(ValueError):
    """A filter that cannot be applied; the message names the field and its value, in no language."""


@dataclass(frozen=True)
class Filter:
    """Which articles a question is answered from: only their passages and sentences are searched.

    ``since`` / ``until``: ISO dates (``YYYY-MM-DD``), inclusive; an article without a date is
    outside every date range. ``sources``: article ids (a file name; ``<file>#<id>`` for one
    record of an export, the export's file name for all of them) or domains (``vnexpress.net``
    also selects ``e.vnexpress.net``; ``https://www.vnexpress.net/...`` reads as its domain); an
    article matching any of them is selected. Both given: an article must pass both. A Filter
    is valid once made (``BadFilter`` otherwise); ``Filter.of`` reads looser input.
    """

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and ISO_DATE.fullmatch(value) and _is_date(value)):
                raise BadFilter(f"{name}={json.dumps(value, ensure_ascii=False, default=str)}")
        if self.since and self.until and self.since > self.until:
            raise BadFilter(f'since="{self.since}" > until="{self.until}"')
        if not isinstance(self.sources, tuple) or len(self.sources) > MAX_FILTER_SOURCES:
            raise BadFilter(f"source: at most {MAX_FILTER_SOURCES} article ids or domains")
        for item in self.sources:
            if not isinstance(item, str) or not item.strip() or len(item) > MAX_SOURCE_CHARS:
                raise BadFilter(f"source={json.dumps(item, ensure_ascii=False, default=str)[:80]}")

    @classmethod
    def of(cls, since=None, until=None, sources=None) -> "Filter":
        """A Filter from loose input: dates as ``datetime.date`` or text (blank: none), sources as
        one string or a list of them (blank entries ignored)."""
        if isinstance(sources, str):
            sources = [sources]
        elif sources is None:
            sources = []
        elif not isinstance(sources, (list, tuple)):
            raise BadFilter(f"source={json.dumps(sources, ensure_ascii=False, default=str)[:80]}")
        kept = [s.strip() if isinstance(s, str) else s for s in sources]
        return cls(since=_loose_date(since), until=_loose_date(until),
                   sources=tuple(dict.fromkeys(s for s in kept if s != "")))

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.sources)

    def selects(self, source: str, date: str | None, url: str | None) -> bool:
        """Whether the article ``source`` (published on ``date``, at ``url``) is selected."""
        if (self.since or self.until) and (
                date is None or (self.since and date < self.since) or (self.until and date > self.until)):
            return False
        if not self.sources:
            return True
        host = domain_of(url) if url else None
        return any(source == s or source.startswith(s + "#")
                   or (host and d and (host == d or host.endswith("." + d)))
                   for s, d in zip(self.sources, self._domains))

    @cached_property
    def _domains(self) -> tuple[str | None, ...]:
        return tuple(domain_of(s) for s in self.sources)

    def to_dict(self) -> dict:
        return {"since": self.since, "until": self.until, "sources": list(self.sources)}


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _loose_date(value) -> str | None:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip() or None
    return value


def domain_of(text: str) -> str | None:
    """The host of an address or a bare domain, lower-cased, without ``www.``."""
    try:
        host = urlsplit(text if "://" in text else "//" + text).hostname
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None


@dataclass
class Answer:
    question: str
    language: str  # "vi" | "en"
    abstained: bool
    message: str
    quotes: list[Quote] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    id: str | None = None
    error: str | None = None  # set when the question itself was rejected
    best_score: float | None = None  # extraction score of the best sentence (for calibration)
    # The earlier turns of the conversation that shaped the passage search (index/conversation.py).
    context: list[dict] = field(default_factory=list)
    filter: Filter | None = None  # the articles it was answered from, when not all of them
    confidence: str | None = None  # "high", "low" (quoted, but below the answer threshold), None: abstained

    @property
    def text(self) -> str:
        """The answer text: the first quote, verbatim article text (the others may answer too)."""
        return self.quotes[0].text if self.quotes else ""

    def to_dict(self) -> dict:
        """The Answer JSON contract (see README, "Answer JSON")."""
        out: dict = {}
        if self.id is not None:
            out["id"] = self.id
        out.update(
            question=self.question,
            language=self.language,
            abstained=self.abstained,
            answer=self.text,
            message=self.message,
            citations=[
                {
                    "n": n,
                    "source": q.source,
                    "title": q.title,
                    "date": q.date,
                    "quote": q.text,
                    "start": q.start,
                    "end": q.end,
                    "score": round(q.score, 4),
                    "highlight": (
                        None
                        if q.highlight_start is None
                        else {"start": q.highlight_start, "end": q.highlight_end}
                    ),
                    "probability": None if q.probability is None else round(q.probability, 4),
                    **({"url": q.link} if q.url else {}),
                }
                for n, q in enumerate(self.quotes, 1)
            ],
            passages=[
                {
                    "source": h.chunk.source,
                    "chunk_id": h.chunk.id,
                    "start": h.chunk.start,
                    "end": h.chunk.end,
                    "score": round(h.score, 4),
                }
                for h in self.passages
            ],
            best_score=None if self.best_score is None else round(self.best_score, 4),
            context=self.context,
            timings_ms={k: round(v, 2) for k, v in self.timings_ms.items()},
        )
        if self.confidence is not None:
            out["confidence"] = self.confidence
        if self.filter is not None and self.filter.active:
            out["filter"] = self.filter.to_dict()
        if self.error is not None:
            out["error"] = self.error
        return out


FRAGMENT_WORDS = 4  # words at each end of a long quote: enough to be unique on a news page


def text_fragment_url(url: str, quote: str) -> str:
    """``url`` with a Text Fragments directive (``#:~:text=start,end``) that highlights ``quote``.

    A quote of up to twice ``FRAGMENT_WORDS`` words is matched whole; a longer one by its first
    and last words. Each term is percent-encoded, ``-``, ``,`` and ``&`` included, as the
    directive's syntax requires; a fragment the address already has is replaced.
    """
    words = quote.split()
    if len(words) <= 2 * FRAGMENT_WORDS:
        terms = [" ".join(words)]
    else:
        terms = [" ".join(words[:FRAGMENT_WORDS]), " ".join(words[-FRAGMENT_WORDS:])]
    directive = ",".join(percent_encode(t, safe="").replace("-", "%2D") for t in terms)
    return f"{url.split('#', 1)[0]}#:~:text={directive}"
