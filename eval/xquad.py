"""``python -m eval xquad``: XQuAD's 240 paragraphs as the corpus, questions in Vietnamese or English.

Contexts: ``vi`` (the Vietnamese paragraphs, one file ``<article>_<paragraph>.txt``
each, the text only, as in the MTEB XQuADRetrieval corpus), ``en`` (the English
paragraphs) or ``mixed`` (both: ``<pid>_vi.txt`` and ``<pid>_en.txt``; either copy
of the right paragraph counts, and the answer in either language). Questions come
from the file of the question language (same ids). Every run reports the dev part
(articles 0-23) and the test part (articles 24-47) apart: tune on dev, report test.
``--set FIELD=VALUE`` changes a ``Config`` field for the run (ablations).
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from index import Config, prepare

from .metrics import contains_answer, retrieval
from .report import fmt, table
from .systems import NO_ABSTENTION, make_systems, thresholds

ANCHORS = [  # MTEB XQuADRetrieval (vi, 240 paragraphs): nDCG@10, recall@1
    ("BM25 (bm25s)", 95.8, 91.6),
    ("multilingual-e5-base", 96.0, 91.9),
    ("LaBSE", 82.0, 69.9),
]
METRICS = ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10")
DEV_ARTICLES = range(0, 24)  # articles 24-47 are the test part


def load_squad(path: Path) -> list[dict]:
    return json.loads(Path(path).read_text(encoding="utf-8"))["data"]


def split_of(pid: str) -> str:
    return "dev" if int(pid.split("_")[0]) in DEV_ARTICLES else "test"


def paragraphs_and_questions(data_dir: Path, context: str, question_lang: str
                             ) -> tuple[dict[str, str], list[dict]]:
    """{file stem: paragraph text}, [{id, question, answers, pid, sources, split}]."""
    data = {lang: load_squad(data_dir / f"xquad.{lang}.json") for lang in ("vi", "en")}
    asked = {qa["id"]: qa["question"] for art in data[question_lang] for par in art["paragraphs"]
             for qa in par["qas"]}
    langs = ("vi", "en") if context == "mixed" else (context,)
    paragraphs: dict[str, str] = {}
    questions: dict[str, dict] = {}
    for lang in langs:
        for a, art in enumerate(data[lang]):
            for p, par in enumerate(art["paragraphs"]):
                pid = f"{a:02d}_{p}"
                stem = f"{pid}_{lang}" if context == "mixed" else pid
                paragraphs[stem] = par["context"]
                for qa in par["qas"]:
                    q = questions.setdefault(qa["id"], {
                        "id": qa["id"], "question": asked.get(qa["id"]), "answers": [], "pid": pid,
                        "sources": [], "split": split_of(pid)})
                    q["answers"] = sorted(set(q["answers"]) | {x["text"] for x in qa["answers"]})
                    q["sources"].append(f"{stem}.txt")
    missing = [q["id"] for q in questions.values() if q["question"] is None]
    if missing:
        raise ValueError(f"{len(missing)} questions have no {question_lang} version, e.g. {missing[:3]}")
    return paragraphs, list(questions.values())


def write_corpus(paragraphs: dict[str, str], folder: Path) -> None:
    """One file per paragraph; unchanged files are left alone (the index build is incremental)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, text in paragraphs.items():
        path = folder / f"{stem}.txt"
        content = text.strip() + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")


def spread(items: list, limit: int | None) -> list:
    """``limit`` items evenly spread over ``items`` (all when no limit)."""
    if not limit or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def overrides(pairs: list[str] | None) -> dict:
    """``["lexicon_keyword=false", "k=7"]`` -> typed Config fields (parsed as their env vars are)."""
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set wants FIELD=VALUE with a Config field, got {pair!r}")
        out[name] = Config.parse_field(name, value)
    return out


def engine_for(context: str, data: Path, question_lang: str, out_root: Path, changes: dict, quiet: bool):
    paragraphs, questions = paragraphs_and_questions(data, context, question_lang)
    corpus = out_root / f"xquad-corpus-{context}"
    write_corpus(paragraphs, corpus)
    config = Config.from_env(corpus_dir=corpus, index_dir=out_root / f"xquad-index-{context}").with_(**changes)
    return prepare(config, progress=not quiet), paragraphs, questions


def score(rows: list[dict], rankings: dict, relevant: dict) -> dict:
    n = len(rows)
    rate = lambda key: sum(r[key] for r in rows) / n if n else None  # noqa: E731
    answerable_abstained = sum(r["abstained"] for r in rows)
    return {
        "n_questions": n,
        "retrieval": retrieval({r["id"]: relevant[r["id"]] for r in rows},
                               {r["id"]: rankings[r["id"]] for r in rows}, METRICS) if n else None,
        "quote_contains_answer": rate("hit"), "quote_contains_answer_right_paragraph": rate("hit_src"),
        "abstention_rate": answerable_abstained / n if n else None,
        "no_abstention": {"quote_contains_answer": rate("free_hit"),
                          "quote_contains_answer_right_paragraph": rate("free_hit_src")},
    }


def run(engine, questions: list[dict], tag: str, out: Path, quiet: bool) -> dict:
    """Ask every question; per-question rows to results.<tag>.jsonl; metrics per split."""
    system = make_systems(engine, ["ours"])["ours"]
    system.ask("Thủ đô của Việt Nam là gì?")  # warm-up
    rows, rankings, relevant = [], {}, {}
    with open(out / f"results.{tag}.jsonl", "w", encoding="utf-8") as f:
        for q in tqdm(questions, desc=f"xquad {tag}", disable=quiet, file=sys.stderr):
            rec = system.ask(q["question"], q["id"])
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            relevant[q["id"]] = set(q["sources"])
            rankings[q["id"]] = rec["eval"]["ranking_sources"][:10]
            would = rec["eval"]["would_answer"] or {}
            top = rec["citations"][0] if rec["citations"] else {}
            rows.append({
                "id": q["id"], "split": q["split"], "abstained": rec["abstained"],
                "hit": bool(top) and contains_answer(top.get("quote", ""), q["answers"]),
                "hit_src": bool(top) and top["source"] in q["sources"]
                and contains_answer(top["quote"], q["answers"]),
                "free_hit": contains_answer(would.get("quote", ""), q["answers"]),
                "free_hit_src": would.get("source") in q["sources"]
                and contains_answer(would.get("quote", ""), q["answers"]),
            })
    return {split: score([r for r in rows if split == "all" or r["split"] == split], rankings, relevant)
            for split in ("dev", "test", "all")}


def cmd_xquad(args) -> int:
    changes = overrides(args.set)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    engine, paragraphs, questions = engine_for(args.context_lang, args.data, args.question_lang,
                                               Path(args.index_root), changes, args.quiet)
    if args.split != "all":
        questions = [q for q in questions if q["split"] == args.split]
    questions = spread(questions, args.limit)
    tag = f"{args.context_lang}-{args.question_lang}" + (f"-{args.name}" if args.name else "")
    splits = run(engine, questions, tag, out, args.quiet)
    articles = engine.generation.articles
    result = {
        "tag": tag, "context": args.context_lang, "question_lang": args.question_lang,
        "variant": args.name or "default", "settings": {k: str(v) for k, v in changes.items()},
        "n_paragraphs": len(paragraphs),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m eval " + " ".join(sys.argv[1:]),
        "scorer": engine.config.scorer, "thresholds": thresholds(engine), "no_abstention_threshold": NO_ABSTENTION,
        "paragraphs_lost_in_cleaning": [s for s in paragraphs if f"{s}.txt" not in articles],
        "splits": splits,
    }
    (out / f"xquad.{tag}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    write_report(out)
    brief = {s: {"R@1": (m["retrieval"] or {}).get("recall@1"), "quote": m["quote_contains_answer"],
                 "abstained": m["abstention_rate"], "n": m["n_questions"]} for s, m in splits.items()}
    print(json.dumps({"tag": tag, **brief}, indent=1))
    print(f"wrote {out}/xquad.{tag}.json, results.{tag}.jsonl, report.md")
    return 0


def write_report(out: Path) -> None:
    """report.md over every xquad.*.json in ``out``, by part (test first), next to the published anchors."""
    results = [json.loads(p.read_text()) for p in sorted(out.glob("xquad.*.json"))]
    results = [r for r in results if "splits" in r]
    headers = ["run", "part", "questions", "R@1", "R@5", "R@10", "MRR", "nDCG@10", "top-1 quote ∋ answer",
               "same, right paragraph", "abstained", "quote ∋ answer, no abstention"]
    rows = []
    for part in ("test", "dev", "all"):
        for r in results:
            m = r["splits"][part]
            if not m["n_questions"]:
                continue
            ret = m["retrieval"] or {}
            rows.append([r["tag"], part, m["n_questions"]] + [fmt(ret.get(k), True) for k in METRICS]
                        + [fmt(m["quote_contains_answer"], True),
                           fmt(m["quote_contains_answer_right_paragraph"], True),
                           fmt(m["abstention_rate"], True), fmt(m["no_abstention"]["quote_contains_answer"], True)])
    for name, ndcg, r1 in ANCHORS:
        rows.append([f"{name} (MTEB, vi-vi)", "all", 1190, f"{r1}", "", "", "", f"{ndcg}", "", "", "", ""])
    lines = ["# XQuAD\n",
             "Tags: `<corpus>-<question language>[-variant]`; corpus `vi` = the 240 Vietnamese paragraphs, "
             "`en` = the English ones, `mixed` = both. Parts: dev = articles 0-23, test = articles 24-47. "
             "Paragraph retrieval: the answer's passages (depth 10, chunk -> its paragraph, deduplicated), "
             "scored with ranx. Quote ∋ answer: the first citation contains a gold span (NFC, casefold, "
             "whitespace collapsed); abstaining counts as a miss; the last column is the same with abstention "
             "disabled. Anchors: MTEB XQuADRetrieval (vi).\n",
             table(headers, rows), "\n"]
    for r in results:
        lines.append(f"\n- `{r['command']}` — {r['date']}; {r.get('scorer', 'hand')} scorer, thresholds vi "
                     f"{r['thresholds']['vi']:.4g}, en {r['thresholds']['en']:.4g}; settings {r['settings'] or 'default'}")
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
