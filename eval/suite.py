"""``python -m eval suite``: every system on corpora of different character, in one table.

XQuAD is 48 Wikipedia articles on distinct topics; a newsroom archive is hundreds
of articles on one beat sharing most words. The suite asks ``ours``, ``bm25``,
``dense`` and ``naive`` (eval/systems.py) the questions of each corpus:

- ``xquad-vivi``, ``xquad-envi``, ``xquad-enen``: XQuAD as ``eval xquad`` builds it, question
  language then paragraph language (``envi``: English questions, Vietnamese paragraphs);
  dev = articles 0-23, test = 24-47.
- ``squad-beat``: every paragraph (one file each) of 48 SQuAD train articles no trained
  part has read questions from (eval/suite_squad.py, eval/data/suite-squad.json);
  ``squad-beat-nearmiss``: its near-miss copy as ``eval near-miss`` makes one (every
  4th answer paragraph removed, their questions asked: abstaining is right).
- ``articles``: the project's corpus/ and eval/gold/articles.jsonl (unanswerable ones too).
- ``ntrex``: the 123 Vietnamese NTREX-128 stories (one file each, a sentence a line),
  English sentences as queries: only whether the story holding the translation
  comes first (story halves split with a seed).

Each corpus folder and index lives under ``--cache`` (default ``.cache/eval-suite/``),
with the naive baseline's chunk vectors, so a second run only answers. Writes
``report.md``, ``summary.json`` and ``<corpus>/results.jsonl`` (Answer JSON +
``system`` + the ``suite`` verdict) into ``--out``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index import Config, Engine, answer, prepare

from .gold import GoldQuestion, load_gold
from .metrics import contains_answer, is_hit
from .near_miss import near_miss_corpus
from .report import fmt, table
from .suite_calibration import calibration, calibration_report
from .suite_squad import SELECTION, SQUAD, read_squad
from .systems import SYSTEMS, CachedEmbedder, NaiveSystem, PipelineSystem, thresholds
from .xquad import paragraphs_and_questions, spread

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CACHE = ROOT / ".cache" / "eval-suite"
OUT = ROOT / "eval" / "out" / "suite"
SEED = 13
NEAR_MISS_EVERY = 4
LANGUAGE = {"vi": "Vietnamese", "en": "English"}
XQUAD = {"xquad-vivi": ("vi", "vi"), "xquad-envi": ("vi", "en"), "xquad-enen": ("en", "en")}  # corpus, question
CORPORA = ("xquad-vivi", "xquad-envi", "xquad-enen", "squad-beat", "squad-beat-nearmiss", "articles", "ntrex")


@dataclass(frozen=True)
class Sources:
    """Where each corpus comes from (tests point these at tiny copies)."""

    xquad: Path = SHARED / "benchmarks" / "xquad"
    squad: Path = SQUAD
    squad_selection: Path = SELECTION
    ntrex: Path = SHARED / "datasets" / "parallel-en-vi"
    articles: Path = ROOT / "corpus"
    gold: Path = ROOT / "eval" / "gold" / "articles.jsonl"


@dataclass
class Corpus:
    """Articles and questions of every split.

    ``files`` (name -> text) are written to ``<cache>/<key>/corpus``; without them
    ``corpus_dir`` is indexed as it is. Corpora with the same ``key`` share the folder and
    index. A question without answers but with a source is a retrieval query (``retrieval_only``
    corpora: no answer is asked for); one with neither should be abstained on. ``base``: the
    corpus whose index seeds this one's, so unchanged articles keep their vectors.
    """

    name: str
    about: str
    key: str
    questions: list[GoldQuestion]
    files: dict[str, str] | None = None
    corpus_dir: Path | None = None
    retrieval_only: bool = False
    base: Corpus | None = field(default=None, repr=False)


# --- corpora ---------------------------------------------------------------------


def xquad_corpus(name: str, context: str, question_lang: str, sources: Sources) -> Corpus:
    paragraphs, questions = paragraphs_and_questions(sources.xquad, context, question_lang)
    return Corpus(
        name=name, key=f"xquad-{context}",
        about=f"XQuAD: {len(paragraphs)} {LANGUAGE[context]} paragraphs (a file each), questions in "
              f"{LANGUAGE[question_lang]}; dev = articles 0-23, test = 24-47",
        files={f"{stem}.txt": text.strip() + "\n" for stem, text in paragraphs.items()},
        questions=[GoldQuestion(id=q["id"], lang=question_lang, question=q["question"], answers=tuple(q["answers"]),
                                source=q["sources"][0], split=q["split"]) for q in questions])


def squad_beat_corpus(sources: Sources) -> Corpus:
    chosen = json.loads(Path(sources.squad_selection).read_text(encoding="utf-8"))
    split = {a["article"]: a["split"] for a in chosen["articles"]}
    wanted = set(chosen["question_ids"])
    paragraphs, rows = read_squad(sources.squad)
    name = lambda a, p: f"{a:03d}_{p:03d}.txt"  # noqa: E731
    questions = [GoldQuestion(id=row["id"], lang="en", question=row["question"].strip(),
                              answers=tuple(sorted({x["text"] for x in row["answers"]})), source=name(a, p),
                              split=split[a])
                 for (a, p), qs in sorted(rows.items()) if a in split for row in qs if row["id"] in wanted]
    if len(questions) != len(wanted):
        raise ValueError(f"{sources.squad} lacks {len(wanted) - len(questions)} questions of {sources.squad_selection}")
    return Corpus(
        name="squad-beat", key="squad-beat",
        about=f"SQuAD train, held out from training: every paragraph (a file each) of {len(split)} articles, "
              "questions only from paragraphs no trained part read; dev/test by article",
        files={name(a, p): par["context"].strip() + "\n" for (a, p), par in paragraphs.items() if a in split},
        questions=questions)


def near_miss_variant(base: Corpus, cache: Path) -> Corpus:
    """``base`` without every ``NEAR_MISS_EVERY``-th answer paragraph; the questions they answered."""
    name = f"{base.name}-nearmiss"
    # Every split's answer paragraphs: the dev and the test run share one corpus and one index.
    misses, removed = near_miss_corpus(materialise(base, cache), [q for q in base.questions if q.answers],
                                       NEAR_MISS_EVERY, cache / name / "corpus")
    return Corpus(
        name=name, key=name, corpus_dir=cache / name / "corpus", base=base,
        about=f"{base.name} without every {NEAR_MISS_EVERY}th answer paragraph ({removed} removed); their "
              "questions whose answer is now nowhere: the right reply is to abstain",
        questions=[replace(q, answers=(), source=None, extra={"near_miss_of": q.source}) for q in misses])


def articles_corpus(sources: Sources) -> Corpus:
    return Corpus(name="articles", key="articles", corpus_dir=Path(sources.articles),
                  about="the project's articles and eval/gold/articles.jsonl (some unanswerable)",
                  questions=load_gold(sources.gold))


def read_lines(path: Path) -> list[str]:
    """Lines split on newlines only (aligned files: no other line breaks may shift them)."""
    return Path(path).read_text(encoding="utf-8").rstrip("\n").split("\n")


def ntrex_dev_stories(story_ids, seed: int = SEED) -> set[str]:
    """The dev half of the NTREX stories (the query shift is derived from these and Tatoeba only)."""
    order = sorted(set(story_ids))
    random.Random(seed).shuffle(order)
    return set(order[:len(order) // 2])


def ntrex_corpus(sources: Sources, seed: int = SEED) -> Corpus:
    folder = Path(sources.ntrex)
    eng, vie = read_lines(folder / "ntrex128.eng.txt"), read_lines(folder / "ntrex128.vie.txt")
    ids = [line.strip() for line in read_lines(folder / "ntrex128.document_ids.tsv")]
    if not len(eng) == len(vie) == len(ids):
        raise ValueError(f"{folder}: {len(eng)} English, {len(vie)} Vietnamese lines and {len(ids)} story ids")
    stories: dict[str, list[str]] = {}
    for story, line in zip(ids, vie):
        stories.setdefault(story, []).append(line)
    dev = ntrex_dev_stories(stories, seed)
    return Corpus(
        name="ntrex", key="ntrex", retrieval_only=True,
        about=f"NTREX-128: {len(stories)} Vietnamese news stories (a file each, a sentence a line), their English "
              "sentences as queries; right when the story holding the translation comes first; "
              "dev/test = story halves (seeded)",
        files={f"{story}.txt": "\n".join(lines) + "\n" for story, lines in stories.items()},
        questions=[GoldQuestion(id=f"ntrex-{i:04d}", lang="en", question=text, answers=(), source=f"{story}.txt",
                                split="dev" if story in dev else "test")
                   for i, (story, text) in enumerate(zip(ids, eng)) if text.strip()])


def make_corpora(names: list[str], sources: Sources, cache: Path) -> list[Corpus]:
    made: dict[str, Corpus] = {}

    def make(name: str) -> Corpus:
        if name not in made:
            if name.endswith("-nearmiss"):
                made[name] = near_miss_variant(make(name.removesuffix("-nearmiss")), cache)
            elif name in XQUAD:
                made[name] = xquad_corpus(name, *XQUAD[name], sources)
            elif name == "squad-beat":
                made[name] = squad_beat_corpus(sources)
            elif name == "articles":
                made[name] = articles_corpus(sources)
            elif name == "ntrex":
                made[name] = ntrex_corpus(sources)
            else:
                raise ValueError(f"unknown corpus {name!r}")
        return made[name]

    return [make(name) for name in names]


# --- folders, indexes, systems ---------------------------------------------------------


def sync_folder(files: dict[str, str], folder: Path) -> None:
    """``folder`` holds exactly ``files``; unchanged ones are left alone (the index build is incremental)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.is_file() and path.name not in files:
            path.unlink()
    for name, text in files.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def materialise(corpus: Corpus, cache: Path) -> Path:
    if corpus.files is None:
        return Path(corpus.corpus_dir)
    folder = cache / corpus.key / "corpus"
    sync_folder(corpus.files, folder)
    return folder


def engine_for(corpus: Corpus, cache: Path, model=None, progress: bool = True) -> Engine:
    """The corpus indexed under ``cache`` (built, or updated, only when it changed) and loaded."""
    index_dir = cache / corpus.key / "index"
    if corpus.base is not None and not index_dir.exists():
        base_index = cache / corpus.base.key / "index"
        if not base_index.exists():
            engine_for(corpus.base, cache, model, progress)
        shutil.copytree(base_index, index_dir)
    config = Config.from_env(corpus_dir=materialise(corpus, cache), index_dir=index_dir)
    return prepare(config, model=model, progress=progress)


class PassageCache:
    """The embedding model, with passage vectors kept on disk: the naive baseline's chunks are encoded once."""

    def __init__(self, model, folder: Path, model_id: str):
        self.model, self.folder, self.model_id = model, Path(folder), model_id

    def get_sentence_embedding_dimension(self) -> int:
        return self.model.get_sentence_embedding_dimension()

    def encode(self, texts, prompt_name=None, **kw):
        digest = hashlib.sha256(json.dumps([self.model_id, prompt_name, list(texts)]).encode()).hexdigest()
        path = self.folder / f"naive-{digest[:24]}.npy"
        if path.exists():
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape[0] == len(texts):
                return vectors
        vectors = np.asarray(self.model.encode(texts, prompt_name=prompt_name, **kw), dtype=np.float32)
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob("naive-*.npy"):
            stale.unlink()
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.save(f, vectors, allow_pickle=False)
        os.replace(tmp, path)
        return vectors


def suite_systems(engine: Engine, names: list[str], folder: Path, progress: bool = False) -> dict:
    cache = engine.embed_query if isinstance(engine.embed_query, CachedEmbedder) else CachedEmbedder(engine)
    return {name: NaiveSystem(replace(engine, model=PassageCache(engine.model, folder, engine.model_id)), cache,
                              progress=progress) if name == "naive" else PipelineSystem(engine, name, cache)
            for name in names}


def ask(system, q: GoldQuestion, retrieval_only: bool) -> dict:
    """Answer JSON of one system (for a retrieval-only corpus, the pipeline's ranking as ``passages``)."""
    if isinstance(system, NaiveSystem):
        record = system.answer(q.question, q.id).to_dict()
    elif retrieval_only:
        record = {"id": q.id, "question": q.question, "abstained": None, "citations": [],
                  "passages": system.ranking(q.question)}
    else:
        record = answer(system.engine, q.question, id=q.id, config=system.config).to_dict()
    record["system"] = system.name
    return record


def free_verdict(system: PipelineSystem, q: GoldQuestion, record: dict, texts: dict[str, str]) -> dict:
    """What ``ours`` would quote with no answer threshold (τ = 0), for the calibration tables.

    Asked again only when the answer was withheld: otherwise it is the same answer.
    """
    if not record["abstained"] or record.get("best_score") is None:
        free = record
    else:
        free = answer(system.engine, q.question, id=q.id, config=system.free).to_dict()
    verdict = judge(free, q, texts)
    return {"free_abstained": verdict["abstained"], "free_hit": verdict.get("hit")}


# --- scoring ---------------------------------------------------------------------------


def judge(record: dict, gold: GoldQuestion, texts: dict[str, str]) -> dict:
    """The verdict on one answer.

    ``source@1``: the first passage is from the gold source; ``r@1``: and holds a gold answer
    (a retrieval query has none: the source decides). ``hit``: the contract's rule (not
    abstained, the first citation cites the gold source and its quote holds a gold answer);
    ``answer@3``: the same for any of the first three citations. ``quote_chars``: length of
    the first quote when answered.
    """
    passages, cites = record.get("passages") or [], record.get("citations") or []
    kind = "answerable" if gold.answers else "retrieval" if gold.source else "unanswerable"
    out: dict = {"kind": kind}
    if gold.source is not None:
        top = passages[0] if passages else None
        out["source@1"] = top is not None and top["source"] == gold.source
        text = texts.get(top["source"], "")[top.get("start", 0):top.get("end", 0)] if out["source@1"] else ""
        out["r@1"] = out["source@1"] and (not gold.answers or contains_answer(text, gold.answers))
    if kind == "retrieval":
        return out
    abstained = bool(record["abstained"])
    out["abstained"] = abstained
    if gold.answers:
        first = cites[0] if cites else {}
        out["hit"] = is_hit(abstained, first.get("quote", ""), first.get("source"), gold.answers, gold.source)
        out["answer@3"] = not abstained and any(
            c["source"] == gold.source and contains_answer(c["quote"], gold.answers) for c in cites[:3])
    out["quote_chars"] = len(cites[0]["quote"]) if cites and not abstained else None
    return out


def share(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return None if not values else sum(values) / len(values)


def summarise(verdicts: list[dict]) -> dict:
    """The suite's columns over one system's verdicts on one corpus."""
    answerable = [v for v in verdicts if v["kind"] == "answerable"]
    unanswerable = [v for v in verdicts if v["kind"] == "unanswerable"]
    lengths = [v["quote_chars"] for v in verdicts if v.get("quote_chars") is not None]
    return {
        "n": len(verdicts), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "source@1": share(verdicts, "source@1"), "r@1": share(verdicts, "r@1"),
        "hit": share(answerable, "hit"), "answer@3": share(answerable, "answer@3"),
        "false_abstention": share(answerable, "abstained"),
        "abstained_unanswerable": share(unanswerable, "abstained"),
        "quote_chars_p50": float(np.percentile(lengths, 50)) if lengths else None,
        "quote_chars_p90": float(np.percentile(lengths, 90)) if lengths else None,
    }


# --- running and reporting -------------------------------------------------------------


def commit() -> str:
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True, timeout=30).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def gold_missing(questions: list[GoldQuestion], texts: dict[str, str]) -> list[str]:
    """Questions whose gold source, or its answer, the cleaned index lacks (dropped duplicates, boilerplate)."""
    return [q.id for q in questions if q.source is not None and (
        q.source not in texts or (q.answers and not contains_answer(texts[q.source], q.answers)))]


def run_corpus(corpus: Corpus, engine: Engine, split: str, limit: int | None, cache: Path, out: Path,
               systems: list[str], progress: bool) -> dict:
    t0 = time.perf_counter()
    asked = spread([q for q in corpus.questions if q.split == split], limit)
    built = suite_systems(engine, systems, cache / corpus.key, progress)
    texts = {source: article.text for source, article in engine.generation.articles.items()}
    t1 = time.perf_counter()
    records = []
    for q in tqdm(asked, desc=corpus.name, disable=not progress, file=sys.stderr):
        for system in built.values():
            record = ask(system, q, corpus.retrieval_only)
            record["suite"] = judge(record, q, texts)
            if system.name == "ours" and not corpus.retrieval_only:
                record["suite"].update(free_verdict(system, q, record, texts))
            records.append(record)
    folder = out / corpus.name
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "results.jsonl", "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return {
        "about": corpus.about, "articles": len(texts), "questions": len(asked),
        "of_split": sum(q.split == split for q in corpus.questions), "retrieval_only": corpus.retrieval_only,
        "gold_missing_from_index": gold_missing(asked, texts), "model_id": engine.model_id,
        "seconds": {"naive_vectors": round(t1 - t0, 1), "answer": round(time.perf_counter() - t1, 1)},
        "systems": {name: summarise([r["suite"] for r in records if r["system"] == name]) for name in systems},
    }


def run_suite(corpora: list[Corpus], *, split: str = "dev", limit: int | None = None, cache: Path = CACHE,
              out: Path = OUT, systems: list[str] = list(SYSTEMS), model=None, progress: bool = True,
              command: str = "python -m eval suite") -> dict:
    """Every system on every corpus; writes ``out``/summary.json, report.md, <corpus>/results.jsonl."""
    cache, out = Path(cache), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    engine, key, meta_engine = None, None, None
    for corpus in corpora:
        t0 = time.perf_counter()
        if corpus.key != key:
            engine = None  # the previous index is freed before the next one is built
            engine, key = engine_for(corpus, cache, model, progress), corpus.key
        meta_engine = meta_engine or engine
        indexed = round(time.perf_counter() - t0, 1)
        results[corpus.name] = run_corpus(corpus, engine, split, limit, cache, out, systems, progress)
        results[corpus.name]["seconds"]["index"] = indexed
    cfg = meta_engine.config if meta_engine else Config.from_env()
    limits = thresholds(meta_engine) if meta_engine else None
    answered = {name: [json.loads(line) for line in (out / name / "results.jsonl").open(encoding="utf-8")]
                for name, r in results.items() if not r["retrieval_only"] and "ours" in systems}
    answered = {name: [r for r in rs if r["system"] == "ours"] for name, rs in answered.items()}
    summary = {
        "meta": {"command": command, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                 "commit": commit(), "split": split, "limit": limit, "systems": systems,
                 "scorer": cfg.scorer, "rerank_model": cfg.rerank_model,
                 "thresholds": limits},
        "corpora": results,
        "calibration": calibration(answered, limits["vi"] if limits and cfg.scorer == "learned" else None)
        if answered and cfg.scorer == "learned" else None,
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "report.md").write_text(report(summary), encoding="utf-8")
    return summary


HEADERS = ["corpus", "system", "questions (ans/unans)", "source@1 %", "passage R@1 %", "hit %", "answer@3 %",
           "false abst. %", "abst. no answer %", "quote p50", "quote p90"]


def results_table(summary: dict) -> str:
    rows = []
    for name, corpus in summary["corpora"].items():
        for system, m in corpus["systems"].items():
            counts = f"{m['n']}" if corpus["retrieval_only"] else f"{m['n']} ({m['answerable']}/{m['unanswerable']})"
            rows.append([name, system, counts, fmt(m["source@1"], True), fmt(m["r@1"], True), fmt(m["hit"], True),
                         fmt(m["answer@3"], True), fmt(m["false_abstention"], True),
                         fmt(m["abstained_unanswerable"], True), fmt(m["quote_chars_p50"], digits=0),
                         fmt(m["quote_chars_p90"], digits=0)])
    return table(HEADERS, rows)


def report(summary: dict) -> str:
    meta = summary["meta"]
    lines = [f"# Suite ({meta['split']})\n", f"`{meta['command']}` — {meta['date']}, commit `{meta['commit']}`; "
             f"scorer {meta['scorer']} (cross-encoder {meta['rerank_model']}).\n",
             "source@1: the first passage is from the gold article; passage R@1: and holds a gold answer (NTREX: "
             "the story is the gold). hit: not abstained, the first citation cites the gold article and its quote "
             "holds a gold answer (NFC, casefold, whitespace collapsed); answer@3: the same for any of the first "
             "three citations. false abst.: answerable questions abstained; abst. no answer: questions the corpus "
             "does not answer (unanswerable, near misses) abstained. Quote p50/p90: characters of the first quote, "
             "answered questions. naive = whole 1,000-character chunks, never abstaining.\n",
             results_table(summary), "\n\n## Corpora\n"]
    for name, c in summary["corpora"].items():
        missing = c["gold_missing_from_index"]
        lines.append(f"- **{name}**: {c['about']}. {c['articles']} articles indexed; {c['questions']} of the "
                     f"{c['of_split']} {meta['split']} questions asked"
                     + (f"; {len(missing)} whose gold the cleaned index lacks ({', '.join(missing[:5])})"
                        if missing else "")
                     + ". Seconds: index {index}, naive baseline's vectors {naive_vectors}, answering {answer}."
                     .format(**c["seconds"]))
    if summary.get("calibration"):
        lines.append(calibration_report(summary["calibration"]))
    return "\n".join(lines) + "\n"


def corpus_names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CORPORA]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown corpus {', '.join(unknown) or '(none)'}; "
                                         f"choose from {', '.join(CORPORA)}")
    return list(dict.fromkeys(names))


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {value}")
    return value


def cmd_suite(args) -> int:
    try:
        corpora = make_corpora(args.corpora, Sources(), args.cache)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = run_suite(corpora, split=args.split, limit=args.limit, cache=args.cache, out=args.out,
                        progress=not args.quiet, command="python -m eval " + " ".join(sys.argv[1:]))
    print(results_table(summary))
    print(f"\nwrote {args.out}/report.md, summary.json, <corpus>/results.jsonl")
    return 0


def add_parser(sub):
    p = sub.add_parser("suite", help="every system on XQuAD, same-beat SQuAD (+ near misses), the articles, NTREX")
    p.add_argument("--corpora", type=corpus_names, default=list(CORPORA), metavar="NAME,...",
                   help=f"comma-separated, from {', '.join(CORPORA)} (default: all)")
    p.add_argument("--split", choices=["dev", "test"], default="dev",
                   help="dev (choose changes here) or test (report there only when asked); default %(default)s")
    p.add_argument("--limit", type=positive, help="at most N questions per corpus, evenly spread (default: all)")
    p.add_argument("--out", type=Path, default=OUT, help="report.md, summary.json, results (default: %(default)s)")
    p.add_argument("--cache", type=Path, default=CACHE,
                   help="corpus folders and indexes, kept between runs (default: %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_suite)
    return p
