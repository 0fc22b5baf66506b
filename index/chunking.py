"""Split articles into overlapping passages and sentences, each with exact offsets."""
from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .config import Config
from .text import sentence_spans
from .types import Article, Chunk, Sentence

def make_splitter(config: Config) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=config.chunk_size,
        chunk_overlap=config.chunk_overlap,
        separators=list(config.chunk_separators),
        keep_separator="end",
        strip_whitespace=True,
    )


def chunk_article(article: Article, splitter: RecursiveCharacterTextSplitter) -> list[Chunk]:
    """Chunks whose text is exactly ``article.text[start:end]``.

    The splitter returns pieces of the text in order; each is located by
    searching forward from the previous piece's start, so repeated passages
    get their own offsets.
    """
    chunks: list[Chunk] = []
    cursor = 0
    for piece in splitter.split_text(article.text):
        start = article.text.find(piece, cursor)
        if start < 0:  # the splitter never rewrites text; fail loudly if it ever does
            raise ValueError(f"chunk not found verbatim in {article.source}: {piece[:60]!r}")
        end = start + len(piece)
        chunks.append(Chunk(id=f"{article.source}#{len(chunks)}", source=article.source,
                            text=piece, start=start, end=end))
        cursor = start + 1
    return chunks


def sentences_of(article: Article, chunks: list[Chunk], first_id: int = 0) -> list[Sentence]:
    """Sentences of the article, each tagged with the first chunk that contains it."""
    out: list[Sentence] = []
    for start, end in sentence_spans(article.text):
        owner = next((c for c in chunks if c.start <= start and end <= c.end), None)
        if owner is None:  # a sentence longer than a chunk: tag the chunk holding its start
            owner = next(c for c in chunks if c.start <= start < c.end)
        out.append(Sentence(id=first_id + len(out), source=article.source, chunk_id=owner.id,
                            text=article.text[start:end], start=start, end=end))
    return out


def split_articles(articles: list[Article], config: Config) -> list[tuple[Article, list[Chunk], list[Sentence]]]:
    """Every article with its chunks and sentences; sentence ids run across the corpus."""
    splitter = make_splitter(config)
    out, n_sentences = [], 0
    for article in articles:
        chunks = chunk_article(article, splitter)
        sentences = sentences_of(article, chunks, first_id=n_sentences)
        n_sentences += len(sentences)
        out.append((article, chunks, sentences))
    return out
