"""Articles, chunks and sentences of a generation in one read-only SQLite file.

Rows are read when asked for, so load time and memory do not grow with the
corpus: an archive of a million passages opens as fast as five articles. A row
number is the row of the same item in the vector files and the FAISS index.
"""
from __future__ import annotations

import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import astuple
from functools import lru_cache
from pathlib import Path

import numpy as np

from .types import Article, Chunk, Sentence

SCHEMA = """
CREATE TABLE articles (source TEXT PRIMARY KEY, title TEXT, date TEXT, text TEXT, checksum TEXT, language TEXT,
                       url TEXT, author TEXT);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, id TEXT UNIQUE, source TEXT, text TEXT, start INTEGER, "end" INTEGER);
CREATE TABLE sentences (row INTEGER PRIMARY KEY, source TEXT, chunk_id TEXT, text TEXT, start INTEGER, "end" INTEGER);
CREATE INDEX sentences_by_position ON sentences (source, start);
CREATE INDEX chunks_by_source ON chunks (source, row);
-- in how many sentences each word occurs: the IDF of the coverage score
CREATE TABLE word_df (word TEXT PRIMARY KEY, df INTEGER) WITHOUT ROWID;
"""
CACHE_ROWS = 65536  # rows kept decoded per table: the candidates of many questions


def write_tables(path: Path, articles: Iterable[Article], chunks: Iterable[Chunk],
                 sentences: Iterable[Sentence], sentence_words) -> None:
    """Write the three tables and the sentence word counts (``sentence_words(sentence)`` -> its word set)."""
    db = sqlite3.connect(path)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        languages = {}
        rows = []
        for a in articles:
            languages[a.source] = a.language
            rows.append(astuple(a))
        db.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
                       ((row, *astuple(c)) for row, c in enumerate(chunks)))
        df: Counter = Counter()
        sentence_rows = []
        for row, s in enumerate(sentences):
            if s.id != row:
                raise ValueError(f"sentence {s.id} stored at row {row}: ids must be row numbers")
            df.update(sentence_words(s))
            sentence_rows.append(astuple(s))
        db.executemany("INSERT INTO sentences VALUES (?, ?, ?, ?, ?, ?)", sentence_rows)
        db.executemany("INSERT INTO word_df VALUES (?, ?)", df.items())
        db.commit()
    finally:
        db.close()


class ReadOnlyDb:
    """One read-only connection shared by the threads of the app; SQLite calls are serialised."""

    def __init__(self, path: Path):
        uri = f"file:{Path(path).resolve().as_posix()}?mode=ro&immutable=1"
        self.connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.lock = threading.Lock()

    def all(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self.lock:
            return self.connection.execute(sql, args).fetchall()

    def one(self, sql: str, args: tuple = ()) -> tuple | None:
        with self.lock:
            return self.connection.execute(sql, args).fetchone()

    def close(self) -> None:
        self.connection.close()


class RowTable:
    """``table[row]`` -> Chunk or Sentence, ``len(table)``, iteration in row order."""

    def __init__(self, db: ReadOnlyDb, name: str, kind: type):
        self._db, self._name, self._kind = db, name, kind
        self._columns = "id, source, text, start, \"end\"" if kind is Chunk else \
            "row, source, chunk_id, text, start, \"end\""
        self._len = db.one(f"SELECT COUNT(*) FROM {name}")[0]
        self._get = lru_cache(maxsize=CACHE_ROWS)(self._fetch)

    def __len__(self) -> int:
        return self._len

    def _fetch(self, row: int):
        found = self._db.one(f"SELECT {self._columns} FROM {self._name} WHERE row = ?", (row,))
        if found is None:
            raise IndexError(f"{self._name} row {row} out of range ({self._len} rows)")
        return self._kind(*found)

    def __getitem__(self, row: int):
        if not isinstance(row, int) or isinstance(row, bool):
            raise TypeError(f"{self._name} rows are ints, not {type(row).__name__}")
        return self._get(row + self._len if row < 0 else row)

    def __iter__(self) -> Iterator:
        for start in range(0, self._len, 4096):
            for found in self._db.all(f"SELECT {self._columns} FROM {self._name} WHERE row >= ? AND row < ? "
                                      "ORDER BY row", (start, start + 4096)):
                yield self._kind(*found)

    def rows_of(self, source: str) -> list[int]:
        """Rows of one article, in order."""
        return [r for (r,) in self._db.all(f"SELECT row FROM {self._name} WHERE source = ? ORDER BY row", (source,))]


class ChunkTable(RowTable):
    def __init__(self, db: ReadOnlyDb):
        super().__init__(db, "chunks", Chunk)
        self.row_of = lru_cache(maxsize=CACHE_ROWS)(self._row_of)

    def _row_of(self, chunk_id: str) -> int:
        found = self._db.one("SELECT row FROM chunks WHERE id = ?", (chunk_id,))
        if found is None:
            raise KeyError(chunk_id)
        return found[0]


class SentenceTable(RowTable):
    def __init__(self, db: ReadOnlyDb):
        super().__init__(db, "sentences", Sentence)
        self.in_span = lru_cache(maxsize=CACHE_ROWS)(self._in_span)

    def _in_span(self, source: str, start: int, end: int) -> tuple[int, ...]:
        """Rows of the sentences of ``source`` overlapping [start, end), in order."""
        return tuple(r for (r,) in self._db.all(
            'SELECT row FROM sentences WHERE source = ? AND start < ? AND "end" > ? ORDER BY row',
            (source, end, start)))


class ArticleTable(Mapping):
    """source -> Article, read on demand (the text of a million articles stays on disk)."""

    def __init__(self, db: ReadOnlyDb):
        self._db = db
        # Tables written before articles kept their address have no url/author: read as None.
        present = {name for _, name, *_ in db.all("PRAGMA table_info(articles)")}
        self._columns = ", ".join(
            name if name in present else f"NULL AS {name}"
            for name in ("source", "title", "date", "text", "checksum", "language", "url", "author"))
        self._url = "url" if "url" in present else "NULL"
        self._get = lru_cache(maxsize=1024)(self._fetch)
        self._len = db.one("SELECT COUNT(*) FROM articles")[0]
        self._languages: frozenset[str] | None = None

    def _fetch(self, source: str) -> Article | None:
        found = self._db.one(f"SELECT {self._columns} FROM articles WHERE source = ?", (source,))
        return None if found is None else Article(*found)

    def __getitem__(self, source: str) -> Article:
        article = self._get(source) if isinstance(source, str) else None
        if article is None:
            raise KeyError(source)
        return article

    def __iter__(self) -> Iterator[str]:
        return iter([s for (s,) in self._db.all("SELECT source FROM articles ORDER BY source")])

    def first(self, n: int) -> list[Article]:
        """The first ``n`` articles by source, for listings that must stay short."""
        return [Article(*row) for row in self._db.all(
            f"SELECT {self._columns} FROM articles ORDER BY source LIMIT ?", (n,))]

    def __len__(self) -> int:
        return self._len

    def owners(self) -> tuple[np.ndarray, list[tuple], np.ndarray, np.ndarray]:
        """(article rowids, (rowid, source, date, url) of each article, the rowid of each chunk row's
        article, of each sentence row's): what a filter over articles masks the rows with."""
        articles = self._db.all(f"SELECT rowid, source, date, {self._url} FROM articles")
        rowids = np.fromiter((a[0] for a in articles), dtype=np.int64, count=len(articles))

        def article_of(table: str) -> np.ndarray:
            return np.fromiter((r for (r,) in self._db.all(
                f"SELECT a.rowid FROM {table} t JOIN articles a ON a.source = t.source ORDER BY t.row")),
                dtype=np.int64)

        return rowids, articles, article_of("chunks"), article_of("sentences")

    def languages(self) -> frozenset[str]:
        """The articles' languages; read once, every question asks."""
        if self._languages is None:
            self._languages = frozenset(lang for (lang,) in self._db.all("SELECT DISTINCT language FROM articles"))
        return self._languages


class WordIdf:
    """IDF of a word over the sentences, looked up per question word: ``idf.get(word, default)``."""

    def __init__(self, db: ReadOnlyDb, n_sentences: int):
        self._db = db
        self.n = n_sentences
        self.unseen = math.log((n_sentences + 1) / 0.5)
        self._df = lru_cache(maxsize=CACHE_ROWS)(self._fetch)

    def _fetch(self, word: str) -> int:
        found = self._db.one("SELECT df FROM word_df WHERE word = ?", (word,))
        return 0 if found is None else found[0]

    def get(self, word: str, default: float | None = None) -> float | None:
        df = self._df(word)
        return math.log((self.n + 1) / (df + 0.5)) if df else default


class Tables:
    """The open tables of one generation."""

    def __init__(self, path: Path):
        self._db = ReadOnlyDb(path)
        self.articles = ArticleTable(self._db)
        self.chunks = ChunkTable(self._db)
        self.sentences = SentenceTable(self._db)
        self.idf = WordIdf(self._db, len(self.sentences))

    def close(self) -> None:
        self._db.close()
