"""The data that flows through the pipeline.

Offsets (``start``/``end``) are always character offsets into ``Article.text``,
the cleaned article text stored in the index, so ``article.text[start:end]``
is exactly the quoted text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote as percent_encode


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

    @property
    def link(self) -> str | None:
        """The article's address, scrolled to the quote: a ``#:~:text=`` text fragment."""
        return None if self.url is None else text_fragment_url(self.url, self.text)


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

    @property
    def text(self) -> str:
        """The answer text: the quotes joined; every part is verbatim article text."""
        return " ".join(q.text for q in self.quotes)

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
