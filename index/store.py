"""Index generations on disk: versioned, checksummed, switched atomically, never pickled.

Layout of ``index_dir``::

    CURRENT                      name of the live generation (replaced atomically)
    generations/<name>/
        manifest.json            format version, model id, settings, sha256 of every file
        tables.sqlite            articles, chunks, sentences, sentence word counts (read on demand)
        chunk_vectors.npy sentence_vectors.npy   float32, memory-mapped at load
        chunk_index.faiss        only above Config.exact_search_max chunks: the IVF index
        keyword_chunks/ keyword_sentences/   bm25s: score matrix (npy, memory-mapped), vocab.sqlite

A generation is written to a temporary folder, fsynced, renamed into
``generations/`` and only then made current, so a crash at any point leaves the
previous generation intact. Every file is verified against the manifest before
it is parsed; FAISS's own reader sees ``chunk_index.faiss`` only after that.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import stages
from .files import atomic_write_text, fsync_dir, fsync_tree, sha256_file
from .keyword import VOCAB_DB, KeywordIndex
from .tables import ArticleTable, ChunkTable, ReadOnlyDb, SentenceTable, Tables, WordIdf, write_tables
from .text import sentence_words
from .types import Article, Chunk, Sentence
from .vector_index import configure

FORMAT = "cited-news-qa-index"
FORMAT_VERSION = 3  # 2: SQLite tables, memory-mapped vectors, FAISS IVF file; 3: bm25s vocabulary in SQLite
KEEP_GENERATIONS = 2
STAMPS = "verified.json"  # size, mtime and digest of the files that passed; not part of the manifest
STAMP_MIN_BYTES = 16 << 20  # smaller files are cheaper to hash than to trust
GENERATION_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


class StoreError(Exception):
    """Base for index problems with a message meant for the user."""


class IndexMissing(StoreError):
    pass


class IndexCorrupt(StoreError):
    pass


@dataclass
class Generation:
    path: Path
    manifest: dict
    articles: ArticleTable  # source -> Article
    chunks: ChunkTable  # row -> Chunk
    sentences: SentenceTable  # row -> Sentence
    idf: WordIdf  # word -> IDF over the sentences
    chunk_vectors: np.ndarray  # memory-mapped
    sentence_vectors: np.ndarray  # memory-mapped
    chunk_keywords: KeywordIndex
    sentence_keywords: KeywordIndex
    chunk_index: object | None = None  # the approximate FAISS index, when the corpus is large

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def languages(self) -> frozenset[str]:
        """The languages of the articles ("vi", "en")."""
        return self.articles.languages()


def current_path(index_dir: Path) -> Path | None:
    """The live generation folder (which may not exist), or None when there is no index yet."""
    pointer = Path(index_dir) / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        name = ""
    # A plain folder name: never a path out of generations/, a temporary folder or a control character.
    if not GENERATION_NAME.fullmatch(name):
        raise IndexCorrupt(f"{pointer} does not name a generation; rebuild with `python -m index build`")
    return Path(index_dir) / "generations" / name


def read_manifest(index_dir: Path) -> dict | None:
    """The live generation's manifest (unverified files), or None when there is none."""
    path = current_path(index_dir)
    if path is None:
        return None
    try:
        return json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def save_generation(
    index_dir: Path,
    articles: list[Article],
    chunks: list[Chunk],
    sentences: list[Sentence],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    meta: dict,
    chunk_index=None,
) -> Path:
    """Write a complete generation and make it current; returns its folder.

    ``chunk_index`` is an approximate FAISS index over ``chunk_vectors`` (None: exact search).
    """
    index_dir = Path(index_dir)
    generations = index_dir / "generations"
    generations.mkdir(parents=True, exist_ok=True)
    now = time.time_ns()  # names sort in creation order: pruning keeps the newest
    name = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now / 1e9)) + f".{now % 10**9:09d}-{os.urandom(2).hex()}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=index_dir))
    try:
        language = {a.source: a.language for a in articles}
        write_tables(tmp / "tables.sqlite", articles, chunks, sentences,
                     lambda s: sentence_words(s.text, language[s.source]))
        np.save(tmp / "chunk_vectors.npy", np.ascontiguousarray(chunk_vectors, dtype=np.float32))
        np.save(tmp / "sentence_vectors.npy", np.ascontiguousarray(sentence_vectors, dtype=np.float32))
        if chunk_index is not None:
            import faiss

            faiss.write_index(chunk_index, str(tmp / "chunk_index.faiss"))
        KeywordIndex.from_texts([c.text for c in chunks], [language[c.source] for c in chunks]
                                ).save(tmp / "keyword_chunks")
        KeywordIndex.from_texts([s.text for s in sentences], [language[s.source] for s in sentences]
                                ).save(tmp / "keyword_sentences")
        files = {
            str(p.relative_to(tmp)): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": name,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "counts": {"articles": len(articles), "chunks": len(chunks), "sentences": len(sentences)},
            **meta,
            "files": files,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        fsync_tree(tmp)
        stages.reached("generation-written")
        final = generations / name
        os.replace(tmp, final)
        fsync_dir(generations)  # the rename is on disk before CURRENT can name it
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    stages.reached("generation-renamed")
    _switch(index_dir, name)
    stages.reached("switched")
    _prune(index_dir, keep=name)
    return final


def _switch(index_dir: Path, name: str) -> None:
    atomic_write_text(index_dir / "CURRENT", name + "\n")


def _prune(index_dir: Path, keep: str) -> None:
    """Delete leftovers of crashed builds and all but the newest generations."""
    for tmp in index_dir.glob(".tmp-*"):
        if tmp.is_dir() and time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)
    names = sorted(p.name for p in (index_dir / "generations").iterdir() if p.is_dir())
    for old in names[:-KEEP_GENERATIONS]:
        if old != keep:
            shutil.rmtree(index_dir / "generations" / old, ignore_errors=True)


def _read_stamps(path: Path) -> dict:
    try:
        stamps = json.loads((path / STAMPS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamps if isinstance(stamps, dict) else {}


def verify(path: Path) -> dict:
    """The manifest of the generation at ``path`` after checking every file it lists.

    A large file whose size and modification time are those recorded when it last
    passed (``verified.json``) is not hashed again: at a million passages hashing
    7 GB took most of the start-up. Any write to a file changes its stamp and
    brings the full check back; FAISS files are always hashed, because FAISS's own
    reader must only ever see verified bytes.
    """
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"generation {path.name} has no manifest") from exc
    except ValueError as exc:
        raise IndexCorrupt(f"generation {path.name}: manifest is not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexCorrupt(f"generation {path.name}: manifest.json is not an index manifest; rebuild it")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(f"generation {path.name} has format version {manifest.get('format_version')!r}, "
                           f"this program reads version {FORMAT_VERSION}; rebuild it")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexCorrupt(f"generation {path.name}: manifest lists no files")
    stamps = _read_stamps(path)
    fresh, to_hash = {}, []
    for rel, digest in files.items():
        file = (path / rel).resolve()
        if path.resolve() not in file.parents:
            raise IndexCorrupt(f"generation {path.name}: manifest names a file outside it: {rel}")
        if not file.is_file():
            raise IndexCorrupt(f"generation {path.name}: {rel} is missing")
        st = file.stat()
        fresh[rel] = [st.st_size, st.st_mtime_ns, digest]
        if st.st_size < STAMP_MIN_BYTES or rel.endswith(".faiss") or stamps.get(rel) != fresh[rel]:
            to_hash.append((rel, file, digest))
    # hashlib releases the GIL on large reads: files are hashed on every core at once.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        digests = list(pool.map(lambda item: sha256_file(item[1]), to_hash))
    for (rel, _, digest), found in zip(to_hash, digests):
        if found != digest:
            raise IndexCorrupt(f"generation {path.name}: {rel} fails its checksum (truncated or modified)")
    if fresh != stamps:
        with contextlib.suppress(OSError):  # a read-only index is verified in full every time
            atomic_write_text(path / STAMPS, json.dumps(fresh))
    return manifest


def _read(path: Path, rel: str, reader):
    """``reader()``, with a file that passed its checksum but cannot be parsed reported as corrupt."""
    try:
        return reader()
    except (sqlite3.DatabaseError, ValueError, KeyError, OSError) as exc:
        raise IndexCorrupt(f"generation {path.name}: {rel} is unreadable ({exc}); rebuild it") from exc


def _vectors(path: Path, rel: str, rows: int, kind: str) -> np.ndarray:
    """The memory-mapped vectors of ``rel``: one row per item of the tables."""
    vectors = _read(path, rel, lambda: np.load(path / rel, mmap_mode="r", allow_pickle=False))
    if vectors.ndim != 2 or vectors.shape[0] != rows:
        raise IndexCorrupt(f"generation {path.name}: {rel} has shape {vectors.shape}, but tables.sqlite holds "
                           f"{rows} {kind}; rebuild it")
    return vectors


def _keywords(path: Path, folder: str, size: int) -> KeywordIndex:
    def read() -> KeywordIndex:
        # bm25s opens its vocabulary lazily: a broken one would otherwise fail the first question.
        probe = ReadOnlyDb(path / folder / VOCAB_DB)
        try:
            probe.one("SELECT token, id FROM vocab LIMIT 1")
        finally:
            probe.close()
        return KeywordIndex.load(path / folder, size)

    return _read(path, folder, read)


def load_generation(index_dir: Path) -> Generation:
    path = current_path(index_dir)
    if path is None:
        raise IndexMissing(f"no index in {index_dir}; build it with `python -m index build`")
    if not path.is_dir():
        raise IndexCorrupt(f"{Path(index_dir) / 'CURRENT'} names generation {path.name}, which does not exist; "
                           "rebuild with `python -m index build`")
    manifest = verify(path)  # before any reader, FAISS's above all, sees a byte
    tables = _read(path, "tables.sqlite", lambda: Tables(path / "tables.sqlite"))
    chunks, sentences = tables.chunks, tables.sentences
    chunk_vectors = _vectors(path, "chunk_vectors.npy", len(chunks), "passages")
    sentence_vectors = _vectors(path, "sentence_vectors.npy", len(sentences), "sentences")
    chunk_index = None
    if "chunk_index.faiss" in manifest["files"]:
        import faiss

        chunk_index = faiss.read_index(str(path / "chunk_index.faiss"))
        configure(chunk_index, manifest.get("chunk_index"))
        if chunk_index.ntotal != len(chunks):
            raise IndexCorrupt(f"generation {path.name}: chunk_index.faiss holds {chunk_index.ntotal} vectors, "
                               f"not {len(chunks)}")
    return Generation(
        path=path,
        manifest=manifest,
        articles=tables.articles,
        chunks=chunks,
        sentences=sentences,
        idf=tables.idf,
        chunk_vectors=chunk_vectors,
        sentence_vectors=sentence_vectors,
        chunk_keywords=_keywords(path, "keyword_chunks", len(chunks)),
        sentence_keywords=_keywords(path, "keyword_sentences", len(sentences)),
        chunk_index=chunk_index,
    )
