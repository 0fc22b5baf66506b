"""Build or update an index generation from a corpus folder.

Incremental: an article whose file (and the cleaning code) is unchanged keeps
its vectors from the live generation, provided model and chunk settings match.
The rest is encoded in resumable shards (``encode.py``), here or on Ray
(``encode_ray.py``), and a large corpus gets an IVF index (``vector_index.py``).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import stages
from .chunking import split_articles
from .config import Config
from .corpus import CorpusReport, Settings, load_corpus
from .embedding import DIM, load_model, model_id
from .encode import discard, encode_local, plan
from .store import StoreError, current_path, load_generation, read_manifest, save_generation, verify
from .types import Article, Chunk, Sentence
from .vector_index import build_ivf


@dataclass
class BuildResult:
    index_dir: Path
    generation: str | None  # None when the index was already up to date
    report: CorpusReport
    articles: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0  # texts encoded in this build
    reused_articles: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def settings(config: Config) -> dict:
    """What the chunks depend on besides the text: a change re-embeds everything."""
    return {"chunk_size": config.chunk_size, "chunk_overlap": config.chunk_overlap,
            "chunk_separators": list(config.chunk_separators)}


# Bump when keyword tokenisation or article analysis changes: the index is rebuilt
# (vectors are reused, they do not depend on it).
ANALYSIS_VERSION = 2


def index_kind(config: Config, n_chunks: int) -> str:
    return "flat" if n_chunks <= config.exact_search_max else "ivf-sq8"


def is_current(config: Config, articles: list[Article], manifest: dict | None, mid: str) -> bool:
    return bool(
        manifest
        and manifest.get("model_id") == mid
        and manifest.get("chunk_index", {}).get("kind")
        == index_kind(config, manifest.get("counts", {}).get("chunks", 0))
        and manifest.get("settings") == settings(config)
        and manifest.get("analysis_version") == ANALYSIS_VERSION
        and manifest.get("articles") == {a.source: a.checksum for a in articles}
    )


def _previous(config: Config, mid: str, log) -> tuple[dict, dict]:
    """Reusable vectors by source from the live generation: (chunk rows, sentence rows)."""
    try:
        gen = load_generation(config.index_dir)
    except StoreError as exc:
        if "no index" not in str(exc):
            log(f"warning: {exc}; building from scratch")
        return {}, {}
    if gen.manifest.get("model_id") != mid or gen.manifest.get("settings") != settings(config):
        return {}, {}
    chunks: dict[str, tuple[str, np.ndarray]] = {}
    sentences: dict[str, np.ndarray] = {}
    checksums = gen.manifest.get("articles", {})
    for source, checksum in checksums.items():
        chunks[source] = (checksum, np.asarray(gen.chunk_vectors[gen.chunks.rows_of(source)]))
        sentences[source] = np.asarray(gen.sentence_vectors[gen.sentences.rows_of(source)])
    return chunks, sentences


def _live_manifest(index_dir: Path, log) -> dict | None:
    """The live generation's manifest; None when there is none or CURRENT is unreadable (then it is rebuilt)."""
    try:
        return read_manifest(index_dir)
    except StoreError as exc:
        log(f"warning: {exc}; rebuilding")
        return None


def _intact(index_dir: Path, log) -> bool:
    """True when every file of the live generation passes its checksum (else it is rebuilt)."""
    try:
        verify(current_path(index_dir))
        return True
    except StoreError as exc:
        log(f"warning: {exc}; rebuilding")
        return False


def _dimension(model, config: Config) -> int:
    """The vector size without loading the model in this process when it can be known."""
    if model is not None:
        return model.get_sentence_embedding_dimension()
    return DIM if not config.model else load_model(config).get_sentence_embedding_dimension()


def encode_passages(model, texts: list[str], progress: bool) -> np.ndarray:
    if not texts:
        return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
    vectors = model.encode(texts, prompt_name="passage", normalize_embeddings=True,
                           batch_size=32, show_progress_bar=progress, convert_to_numpy=True)
    return np.asarray(vectors, dtype=np.float32)


def build(config: Config | None = None, *, force: bool = False, progress: bool = True,
          log=lambda msg: print(msg, file=sys.stderr), model=None) -> BuildResult:
    """Build the index for ``config.corpus_dir`` into ``config.index_dir``.

    ``model`` is the configured model already loaded, or a replacement that
    names itself with a ``model_id`` attribute (the tests pass a deterministic one).
    """
    config = config or Config.from_env()
    t0 = time.perf_counter()
    articles, report = load_corpus(config.corpus_dir, Settings.from_config(config))
    for skipped in report.skipped:
        log(f"warning: skipped {skipped.source}: {skipped.reason}")
    if not articles:
        raise ValueError(f"no readable articles (.txt/.md, .html/.htm, .jsonl/.json/.csv) in {config.corpus_dir}")
    mid = getattr(model, "model_id", None) or model_id(config)
    result = BuildResult(index_dir=Path(config.index_dir), generation=None, report=report,
                         articles=len(articles))
    if not force and is_current(config, articles, _live_manifest(config.index_dir, log), mid) \
            and _intact(config.index_dir, log):
        result.seconds["total"] = time.perf_counter() - t0
        return result

    per_article = split_articles(articles, config)
    chunks: list[Chunk] = [c for _, a_chunks, _ in per_article for c in a_chunks]
    sentences: list[Sentence] = [s for _, _, a_sentences in per_article for s in a_sentences]
    t_prepared = time.perf_counter()

    old_chunks, old_sentences = ({}, {}) if force else _previous(config, mid, log)
    todo: list[str] = []
    chunk_vectors: list[np.ndarray | None] = []
    sentence_vectors: list[np.ndarray | None] = []
    for article, a_chunks, a_sentences in per_article:
        old = old_chunks.get(article.source)
        if old and old[0] == article.checksum and len(old[1]) == len(a_chunks) \
                and len(old_sentences[article.source]) == len(a_sentences):
            chunk_vectors.append(old[1])
            sentence_vectors.append(old_sentences[article.source])
            result.reused_articles.append(article.source)
            continue
        chunk_vectors.append(None)
        sentence_vectors.append(None)
        todo += [c.text for c in a_chunks] + [s.text for s in a_sentences]

    t_embed = time.perf_counter()
    vectors = np.zeros((0, 0), dtype=np.float32)
    if todo:
        shards = plan(config.index_dir, mid, todo, config.encode_shard_size)
        if config.encode_engine == "ray":
            from .encode_ray import encode_ray

            vectors, result.embedded = encode_ray(todo, shards, config, _dimension(model, config), progress, log)
        else:
            model = model if model is not None else load_model(config)
            result.seconds["model_load"] = time.perf_counter() - t_embed
            stages.reached("model-loaded")
            t_embed = time.perf_counter()
            vectors, result.embedded = encode_local(model, todo, shards, config.encode_batch_size, progress, log)
    result.seconds["encode"] = time.perf_counter() - t_embed

    cursor = 0
    for i, (article, a_chunks, a_sentences) in enumerate(per_article):
        if chunk_vectors[i] is None:
            chunk_vectors[i] = vectors[cursor:cursor + len(a_chunks)]
            cursor += len(a_chunks)
            sentence_vectors[i] = vectors[cursor:cursor + len(a_sentences)]
            cursor += len(a_sentences)
    dim = next((v.shape[1] for v in chunk_vectors if v is not None and v.ndim == 2 and v.size), 0)

    def stack(parts):
        parts = [p for p in parts if len(p)]
        return np.vstack(parts) if parts else np.zeros((0, dim), dtype=np.float32)

    all_chunk_vectors = stack(chunk_vectors)
    chunk_index, index_info = None, {"kind": "flat"}
    if index_kind(config, len(chunks)) != "flat":
        t_index = time.perf_counter()
        log(f"{len(chunks):,} passages > QA_EXACT_SEARCH_MAX={config.exact_search_max:,}: building an IVF index")
        chunk_index, index_info = build_ivf(all_chunk_vectors, target=config.ann_recall, log=log)
        result.seconds["vector_index"] = time.perf_counter() - t_index
    t_save = time.perf_counter()
    path = save_generation(
        config.index_dir, articles, chunks, sentences, all_chunk_vectors, stack(sentence_vectors),
        chunk_index=chunk_index,
        meta={
            "chunk_index": index_info,
            "model_id": mid,
            "settings": settings(config),
            "analysis_version": ANALYSIS_VERSION,
            "languages": {a.source: a.language for a in articles},
            "dim": int(dim),
            "corpus_dir": str(Path(config.corpus_dir).resolve()),
            "articles": {a.source: a.checksum for a in articles},
        },
    )
    discard(config.index_dir)
    now = time.perf_counter()
    result.seconds.update(prepare=t_prepared - t0, save=now - t_save, total=now - t0)
    result.generation = path.name
    result.chunks, result.sentences = len(chunks), len(sentences)
    return result
