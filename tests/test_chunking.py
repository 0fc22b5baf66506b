from pathlib import Path

from index import Config
from index.chunking import chunk_article, make_splitter, sentences_of
from index.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent


def test_every_chunk_and_sentence_is_an_exact_slice():
    articles, _ = load_corpus(ROOT / "corpus")
    splitter = make_splitter(Config())
    for article in articles:
        chunks = chunk_article(article, splitter)
        assert chunks and chunks[0].start == 0 and chunks[-1].end == len(article.text)
        for c in chunks:
            assert article.text[c.start:c.end] == c.text and len(c.text) <= 700
        # Chunks cover the whole text (overlapping, in order).
        for a, b in zip(chunks, chunks[1:]):
            assert a.start < b.start <= a.end + 2
        sentences = sentences_of(article, chunks)
        assert len(sentences) >= 10
        ids = {c.id for c in chunks}
        for s in sentences:
            assert article.text[s.start:s.end] == s.text and s.chunk_id in ids
