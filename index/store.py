"""Index generations on disk: versioned, checksummed, switched atomically, never pickled.

Layout of ``index_dir``::

    CURRENT                      name of the live generation (replaced atomically)
    generations/<name>/
        manifest.json            format version, model id, settings, sha256 of every file
        articles.jsonl chunks.jsonl sentences.jsonl
        chunk_vectors.npy sentence_vectors.npy
        keyword_chunks/ keyword_sentences/   bm25s files (JSON + npy)

A generation is written to a temporary folder, fsynced, renamed into
``generations/`` and only then made current, so a crash at any point leaves the
previous generation intact. Vectors are stored as .npy and loaded into a fresh
FAISS index: FAISS's own file reader is never pointed at disk bytes.
Every file is verified against the manifest before it is parsed.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .files import atomic_write_text, fsync_tree, sha256_file
from .keyword import KeywordIndex
from .types import Article, Chunk, Sentence

FORMAT = "cited-news-qa-index"
FORMAT_VERSION = 1
KEEP_GENERATIONS = 2


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
    articles: dict[str, Article]
    chunks: list[Chunk]
    sentences: list[Sentence]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    chunk_keywords: KeywordIndex
    sentence_keywords: KeywordIndex

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def languages(self) -> frozenset[str]:
        """The languages of the articles ("vi", "en")."""
        return frozenset(a.language for a in self.articles.values())


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def current_path(index_dir: Path) -> Path | None:
    """The live generation folder, or None when there is no index yet."""
    pointer = Path(index_dir) / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not name or "/" in name or "\\" in name or name.startswith("."):
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
) -> Path:
    """Write a complete generation and make it current; returns its folder."""
    index_dir = Path(index_dir)
    generations = index_dir / "generations"
    generations.mkdir(parents=True, exist_ok=True)
    now = time.time_ns()  # names sort in creation order: pruning keeps the newest
    name = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now / 1e9)) + f".{now % 10**9:09d}-{os.urandom(2).hex()}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=index_dir))
    try:
        _write_jsonl(tmp / "articles.jsonl", (asdict(a) for a in articles))
        _write_jsonl(tmp / "chunks.jsonl", (asdict(c) for c in chunks))
        _write_jsonl(tmp / "sentences.jsonl", (asdict(s) for s in sentences))
        np.save(tmp / "chunk_vectors.npy", np.ascontiguousarray(chunk_vectors, dtype=np.float32))
        np.save(tmp / "sentence_vectors.npy", np.ascontiguousarray(sentence_vectors, dtype=np.float32))
        language = {a.source: a.language for a in articles}
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
        final = generations / name
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _switch(index_dir, name)
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


def verify(path: Path) -> dict:
    """The manifest of the generation at ``path`` after checking every file it lists."""
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"generation {path.name} has no manifest") from exc
    except ValueError as exc:
        raise IndexCorrupt(f"generation {path.name}: manifest is not valid JSON") from exc
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(f"generation {path.name} has an unknown format; rebuild it")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexCorrupt(f"generation {path.name}: manifest lists no files")
    for rel, digest in files.items():
        file = (path / rel).resolve()
        if path.resolve() not in file.parents:
            raise IndexCorrupt(f"generation {path.name}: manifest names a file outside it: {rel}")
        if not file.is_file():
            raise IndexCorrupt(f"generation {path.name}: {rel} is missing")
        if sha256_file(file) != digest:
            raise IndexCorrupt(f"generation {path.name}: {rel} fails its checksum (truncated or modified)")
    return manifest


def load_generation(index_dir: Path) -> Generation:
    path = current_path(index_dir)
    if path is None or not path.is_dir():
        raise IndexMissing(f"no index in {index_dir}; build it with `python -m index build`")
    manifest = verify(path)
    articles = {a["source"]: Article(**a) for a in _read_jsonl(path / "articles.jsonl")}
    chunks = [Chunk(**c) for c in _read_jsonl(path / "chunks.jsonl")]
    sentences = [Sentence(**s) for s in _read_jsonl(path / "sentences.jsonl")]
    chunk_vectors = np.load(path / "chunk_vectors.npy", allow_pickle=False)
    sentence_vectors = np.load(path / "sentence_vectors.npy", allow_pickle=False)
    if chunk_vectors.shape[0] != len(chunks) or sentence_vectors.shape[0] != len(sentences):
        raise IndexCorrupt(f"generation {path.name}: vector and table sizes disagree")
    return Generation(
        path=path,
        manifest=manifest,
        articles=articles,
        chunks=chunks,
        sentences=sentences,
        chunk_vectors=chunk_vectors,
        sentence_vectors=sentence_vectors,
        chunk_keywords=KeywordIndex.load(path / "keyword_chunks", len(chunks)),
        sentence_keywords=KeywordIndex.load(path / "keyword_sentences", len(sentences)),
    )
