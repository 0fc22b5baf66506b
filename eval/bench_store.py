"""``python -m eval bench-store``: a whole index generation at archive size, through the store's own code.

A synthetic archive of N passages (N/4 articles of 8 sentences, 2 per passage;
the seed articles have 2 sentences per passage too) with synthetic words and
clustered vectors is written by ``store.save_generation`` (the IVF-SQ8 index
included when N > ``QA_EXACT_SEARCH_MAX``). A fresh process then opens it as the
server does (``index.load``: checksums, SQLite, memory maps, FAISS) and answers
questions made of a sentence's words, each with a vector near that sentence's
passage, so everything but the query encoding is measured: load time, RSS, and
the answer's search + extraction time.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .bench_scale import _rss_mb, vector_blocks
from .metrics import percentiles
from .report import fmt, table, write_report

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "out"
SENTENCES_PER_ARTICLE, SENTENCES_PER_CHUNK, WORDS, VOCABULARY = 8, 2, 14, 60_000
DIM = 384


def _word(i: int) -> str:
    # Pronounceable, distinct, never a Vietnamese or English stopword.
    consonants, vowels = "bcdghklmnpqrstvx", "aeiouy"
    out = []
    i += 1
    while i:
        i, r = divmod(i, len(consonants) * len(vowels))
        out.append(consonants[r % len(consonants)] + vowels[r // len(consonants)])
    return "".join(out)


def synthetic(n_chunks: int, seed: int = 0):
    """(articles, chunks, sentences, chunk vectors, sentence vectors) of the store's types."""
    from index.types import Article, Chunk, Sentence

    rng = np.random.default_rng(seed)
    vocabulary = [_word(i) for i in range(VOCABULARY)]
    zipf = 1.0 / np.arange(1, VOCABULARY + 1)
    zipf /= zipf.sum()
    n_articles = max(1, n_chunks * SENTENCES_PER_CHUNK // SENTENCES_PER_ARTICLE)
    words = rng.choice(VOCABULARY, size=(n_articles, SENTENCES_PER_ARTICLE, WORDS), p=zipf)
    chunk_vectors = np.concatenate(list(vector_blocks(n_articles * SENTENCES_PER_ARTICLE // SENTENCES_PER_CHUNK,
                                                      DIM, seed)))
    articles, chunks, sentences = [], [], []
    for a in range(n_articles):
        texts = [" ".join(vocabulary[w] for w in row).capitalize() + "." for row in words[a]]
        text = " ".join(texts)
        source = f"{a:07d}.txt"
        articles.append(Article(source=source, title=texts[0][:60], date="2024-01-01", text=text,
                                checksum=f"{a:064x}"))
        start = 0
        spans = []
        for t in texts:
            spans.append((start, start + len(t)))
            start += len(t) + 1
        for c in range(SENTENCES_PER_ARTICLE // SENTENCES_PER_CHUNK):
            first, last = spans[c * SENTENCES_PER_CHUNK], spans[(c + 1) * SENTENCES_PER_CHUNK - 1]
            chunk = Chunk(id=f"{source}#{c}", source=source, text=text[first[0]:last[1]], start=first[0],
                          end=last[1])
            chunks.append(chunk)
            for s0, s1 in spans[c * SENTENCES_PER_CHUNK:(c + 1) * SENTENCES_PER_CHUNK]:
                sentences.append(Sentence(id=len(sentences), source=source, chunk_id=chunk.id,
                                          text=text[s0:s1], start=s0, end=s1))
    # A sentence's vector: its passage's, moved a little (they share a topic).
    noise = np.random.default_rng([seed, 9])
    sentence_vectors = np.repeat(chunk_vectors, SENTENCES_PER_CHUNK, axis=0)
    sentence_vectors += noise.standard_normal(sentence_vectors.shape, dtype=np.float32) * np.float32(0.3 / 20)
    sentence_vectors /= np.linalg.norm(sentence_vectors, axis=1, keepdims=True)
    return articles, chunks, sentences, chunk_vectors, sentence_vectors


class FixedVectors:
    """The query encoder's stand-in: each benchmark question has its vector ready."""

    def __init__(self, vectors: dict[str, np.ndarray]):
        self.vectors = vectors

    def get_sentence_embedding_dimension(self) -> int:
        return DIM

    def encode(self, text, **_):
        return self.vectors[text]


def _write(n: int, folder: Path, log) -> dict:
    from index.config import Config
    from index.store import save_generation
    from index.vector_index import build_ivf

    config = Config.from_env()
    t = time.perf_counter()
    articles, chunks, sentences, cv, sv = synthetic(n)
    log(f"N={n:,}: {len(articles):,} articles, {len(chunks):,} passages, {len(sentences):,} sentences "
        f"made in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    index, info = (None, {"kind": "flat"}) if n <= config.exact_search_max else build_ivf(cv, target=config.ann_recall)
    ivf_s = time.perf_counter() - t
    t = time.perf_counter()
    save_generation(folder, articles, chunks, sentences, cv, sv, meta={"model_id": "synthetic", "chunk_index": info},
                    chunk_index=index)
    save_s = time.perf_counter() - t
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    log(f"N={n:,}: index {ivf_s:.1f} s, save {save_s:.1f} s, {size / 2**30:.2f} GB")
    return {"n_chunks": len(chunks), "n_sentences": len(sentences), "n_articles": len(articles),
            "vector_index": info, "index_s": ivf_s, "save_s": save_s, "disk_gb": size / 2**30}


def _serve(spec: dict) -> dict:
    """In a fresh process: load as the server does, then answer the questions."""
    from index.answer import answer
    from index.config import Config
    from index.engine import load

    folder, n_questions = Path(spec["dir"]), spec["questions"]
    questions = json.loads((folder.parent / "questions.json").read_text(encoding="utf-8"))[:n_questions]
    vectors = {q["text"]: np.asarray(q["vector"], dtype=np.float32) for q in questions}
    from index.store import STAMPS, current_path

    config = Config.from_env(index_dir=folder, scorer="hand")
    (current_path(folder) / STAMPS).unlink(missing_ok=True)  # the first start after a build hashes everything
    base, t = _rss_mb(), time.perf_counter()
    engine = load(config, model=FixedVectors(vectors))
    load_s, rss = time.perf_counter() - t, _rss_mb()
    times, found = [], 0
    for i, q in enumerate(questions):
        d = answer(engine, q["text"]).to_dict()
        if i >= 5:  # warm-up
            times.append(d["timings_ms"]["total"] - d["timings_ms"]["embed"])
        found += any(c["source"] == q["source"] for c in d["citations"])
    lat, after = percentiles(times), _memory()
    del engine
    t = time.perf_counter()
    load(config, model=FixedVectors(vectors))  # a restart: large files unchanged since they were verified
    reload_s = time.perf_counter() - t
    return {"load_s": load_s, "reload_s": reload_s, "rss_base_mb": base, "rss_mb": rss,
            "rss_after_mb": after["VmRSS"], "rss_anon_after_mb": after["RssAnon"], "rss_file_after_mb": after["RssFile"],
            "answer_p50_ms": lat["p50"], "answer_p95_ms": lat["p95"], "right_article": found / len(questions)}


def _memory() -> dict[str, float]:
    """VmRSS and its parts in MB: RssAnon (the process's own) and RssFile (mapped file pages, reclaimable)."""
    lines = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
    return {k: int(line.split()[1]) / 1024 for line in lines for k in ("VmRSS", "RssAnon", "RssFile")
            if line.startswith(k + ":")}


def _questions(folder: Path, n: int, seed: int = 0) -> None:
    """Questions: 6 words of a random sentence; vector: its passage's, with noise."""
    from index.store import load_generation
    from index.vector_index import noisy

    gen = load_generation(folder)
    rng = np.random.default_rng([seed, 5])
    out = []
    for row in rng.integers(len(gen.sentences), size=n):
        s = gen.sentences[int(row)]
        words = s.text.rstrip(".").split()
        picked = [words[i] for i in sorted(rng.choice(len(words), size=6, replace=False))]
        vector = noisy(rng, np.asarray(gen.chunk_vectors[gen.chunks.row_of(s.chunk_id)])[None, :], 0.5)[0]
        out.append({"text": " ".join(picked) + "?", "source": s.source, "vector": vector.tolist()})
    (folder.parent / "questions.json").write_text(json.dumps(out), encoding="utf-8")


def cmd_bench_store(args) -> int:
    log = (lambda m: None) if args.quiet else (lambda m: print(f"bench-store: {m}", file=sys.stderr, flush=True))
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-store-", dir=args.tmp) as tmp:
            folder = Path(tmp) / "index"
            row = _write(n, folder, log)
            _questions(folder, args.questions)
            proc = subprocess.run([sys.executable, "-m", "eval.bench_store", "--one",
                                   json.dumps({"dir": str(folder), "questions": args.questions})],
                                  cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False,
                                  env={**os.environ, "OMP_NUM_THREADS": "1"})
            if proc.returncode:
                print(f"error: serving N={n:,} failed", file=sys.stderr)
                return 1
            row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
            log(f"N={n:,}: load {row['load_s']:.2f} s, RSS {row['rss_mb']:.0f} MB, "
                f"answer p50 {row['answer_p50_ms']:.1f} ms, right article {row['right_article']:.2f}")
            rows.append(row)
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": f"python -m eval bench-store --sizes {' '.join(map(str, args.sizes))} "
                       f"--questions {args.questions}",
            "machine": f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end"}
    body = [[r["n_chunks"], r["n_sentences"], r["vector_index"]["kind"], fmt(r["disk_gb"], digits=2),
             fmt(r["save_s"], digits=1), fmt(r["load_s"], digits=2), fmt(r.get("reload_s"), digits=2),
             fmt(r["rss_mb"], digits=0),
             f'{fmt(r["rss_after_mb"], digits=0)} ({fmt(r["rss_anon_after_mb"], digits=0)} / '
             f'{fmt(r["rss_file_after_mb"], digits=0)})',
             fmt(r["answer_p50_ms"], digits=1), fmt(r["answer_p95_ms"], digits=1), fmt(r["right_article"], digits=2)]
            for r in rows]
    md = (f"# A whole generation at scale\n\n`{meta['command']}` — {meta['date']} — {meta['machine']}\n\n"
          + table(["passages", "sentences", "vector index", "disk GB", "save s", "first load s", "reload s", "RSS MB",
                   "RSS after answering (anon / file) MB",
                   "answer p50 ms", "answer p95 ms", "right article"], body)
          + "\n\nFirst load: `index.load` in a fresh process right after the build (sha256 of every file, SQLite, "
            "memory maps, FAISS); reload: the same again, large files unchanged since they passed (FAISS still "
            "hashed). "
            "No embedding model (RSS after the first load, without it; the model adds about 830 MB). After "
            "answering, RssFile is pages of memory-mapped files the questions touched: the kernel's cache, "
            "dropped under memory pressure; RssAnon is the process's own memory. Answer: search + extraction "
            "of `index.answer.answer`, the query vector given (encoding excluded), one FAISS thread.\n")
    write_report(args.out, "bench-store", {"meta": meta, "rows": rows}, md)
    return 0


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("bench-store", help="a whole synthetic generation at archive size: load, RSS, answer time")
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="passages (default: %(default)s)")
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--tmp", type=Path, default=None, help="where the temporary generation goes (default: the system's)")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_bench_store)
    return p


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench_store")
    p.add_argument("--one", required=True)
    args = p.parse_args(argv)
    print(json.dumps(_serve(json.loads(args.one))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
