"""``python -m eval xquad``: XQuAD's 240 Vietnamese paragraphs as the corpus.

Each paragraph becomes one file ``<article>_<paragraph>.txt`` (the paragraph text
only, so that retrieval sees what the MTEB XQuADRetrieval corpus holds) in a
cached corpus folder next to the index; the index is built once and re-used.
The 1,190 questions are asked in Vietnamese, or in English from the aligned
English file (same ids); the gold answer is always the Vietnamese span.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from .metrics import contains_answer, retrieval
from .report import fmt, table
from .run import prepare_engine, thresholds_of
from .systems import NO_ABSTENTION, make_systems

ANCHORS = [  # MTEB XQuADRetrieval (vi, 240 paragraphs): nDCG@10, recall@1
    ("BM25 (bm25s)", 95.8, 91.6),
    ("multilingual-e5-base", 96.0, 91.9),
    ("LaBSE", 82.0, 69.9),
]
METRICS = ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10")


def load_squad(path: Path) -> list[dict]:
    return json.loads(Path(path).read_text(encoding="utf-8"))["data"]


def paragraphs_and_questions(data_dir: Path, question_lang: str) -> tuple[dict[str, str], list[dict]]:
    """{paragraph id: Vietnamese text}, [{id, question, answers (vi), pid}]."""
    vi = load_squad(data_dir / "xquad.vi.json")
    asked = {}
    if question_lang != "vi":
        for art in load_squad(data_dir / f"xquad.{question_lang}.json"):
            for par in art["paragraphs"]:
                asked.update({qa["id"]: qa["question"] for qa in par["qas"]})
    paragraphs, questions = {}, []
    for a, art in enumerate(vi):
        for p, par in enumerate(art["paragraphs"]):
            pid = f"{a:02d}_{p}"
            paragraphs[pid] = par["context"]
            for qa in par["qas"]:
                questions.append({"id": qa["id"], "question": asked.get(qa["id"], qa["question"]),
                                  "answers": sorted({x["text"] for x in qa["answers"]}), "pid": pid})
    if question_lang != "vi":
        missing = [q["id"] for q in questions if q["id"] not in asked]
        if missing:
            raise ValueError(f"{len(missing)} questions have no {question_lang} version, e.g. {missing[:3]}")
    return paragraphs, questions


def write_corpus(paragraphs: dict[str, str], folder: Path) -> None:
    """One file per paragraph; unchanged files are left alone (the index build is incremental)."""
    folder.mkdir(parents=True, exist_ok=True)
    for pid, text in paragraphs.items():
        path = folder / f"{pid}.txt"
        content = text.strip() + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")


def spread(items: list, limit: int | None) -> list:
    """``limit`` items evenly spread over ``items`` (all when no limit)."""
    if not limit or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def cmd_xquad(args) -> int:
    paragraphs, questions = paragraphs_and_questions(args.data, args.question_lang)
    corpus = Path(args.index).parent / "xquad-corpus"
    write_corpus(paragraphs, corpus)
    engine = prepare_engine(corpus, args.index, progress=not args.quiet)
    articles = engine.generation.articles
    lost = [pid for pid in paragraphs if f"{pid}.txt" not in articles]
    lost_answers = [q["id"] for q in questions if f"{q['pid']}.txt" in articles
                    and not contains_answer(articles[f"{q['pid']}.txt"].text, q["answers"])]
    questions = spread(questions, args.limit)
    system = make_systems(engine, ["ours"])["ours"]
    system.ask("Thủ đô của Việt Nam là gì?")  # warm-up
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tag = f"{args.context_lang}-{args.question_lang}"
    relevant, rankings, rows = {}, {}, []
    with open(out / f"results.{tag}.jsonl", "w", encoding="utf-8") as f:
        for q in tqdm(questions, desc=f"xquad {tag}", disable=args.quiet, file=sys.stderr):
            rec = system.ask(q["question"], q["id"])
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            source = f"{q['pid']}.txt"
            relevant[q["id"]] = {source}
            rankings[q["id"]] = rec["eval"]["ranking_sources"][:10]
            would = rec["eval"]["would_answer"] or {}
            top = rec["citations"][0] if rec["citations"] else {}
            rows.append({
                "abstained": rec["abstained"],
                "hit": bool(top) and contains_answer(top.get("quote", ""), q["answers"]),
                "hit_src": bool(top) and top["source"] == source and contains_answer(top["quote"], q["answers"]),
                "free_hit": contains_answer(would.get("quote", ""), q["answers"]),
                "free_hit_src": would.get("source") == source and contains_answer(would.get("quote", ""),
                                                                                 q["answers"]),
                "total_ms": rec["timings_ms"].get("total"),
            })
    n = len(rows)
    ret = retrieval(relevant, rankings, METRICS)
    rate = lambda key: sum(r[key] for r in rows) / n if n else None  # noqa: E731
    result = {
        "tag": tag, "n_questions": n, "n_paragraphs": len(paragraphs),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m eval " + " ".join(sys.argv[1:]),
        "thresholds": thresholds_of(engine.config),
        "paragraphs_lost_in_cleaning": lost, "answers_lost_in_cleaning": len(lost_answers),
        "retrieval": ret,
        "quote_contains_answer": rate("hit"), "quote_contains_answer_right_paragraph": rate("hit_src"),
        "abstention_rate": rate("abstained"),
        "no_abstention": {"quote_contains_answer": rate("free_hit"),
                          "quote_contains_answer_right_paragraph": rate("free_hit_src"),
                          "threshold": NO_ABSTENTION},
    }
    (out / f"xquad.{tag}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    write_report(out)
    print(json.dumps({k: result[k] for k in ("tag", "n_questions", "retrieval", "quote_contains_answer",
                                              "abstention_rate", "no_abstention")}, indent=1))
    print(f"wrote {out}/xquad.{tag}.json, results.{tag}.jsonl, report.md")
    return 0


def write_report(out: Path) -> None:
    """report.md over every xquad.*.json in ``out``, next to the published anchors."""
    results = [json.loads(p.read_text()) for p in sorted(out.glob("xquad.*.json"))]
    headers = ["system", "questions", "R@1", "R@5", "R@10", "MRR", "nDCG@10", "top-1 quote ∋ answer",
               "same, right paragraph", "abstained", "quote ∋ answer, no abstention"]
    rows = []
    for r in results:
        ret = r["retrieval"] or {}
        rows.append([f"ours {r['tag']}", r["n_questions"]] + [fmt(ret.get(m), True) for m in METRICS]
                    + [fmt(r["quote_contains_answer"], True), fmt(r["quote_contains_answer_right_paragraph"], True),
                       fmt(r["abstention_rate"], True), fmt(r["no_abstention"]["quote_contains_answer"], True)])
    for name, ndcg, r1 in ANCHORS:
        rows.append([f"{name} (MTEB, vi-vi)", 1190, f"{r1}", "", "", "", f"{ndcg}", "", "", "", ""])
    lines = [f"# XQuAD (Vietnamese paragraphs as the corpus)\n",
             "Paragraph retrieval: the answer's passages (depth 10, chunk -> its paragraph, deduplicated), "
             "scored with ranx; 240 paragraphs. Quote ∋ answer: the first citation contains the Vietnamese "
             "gold span (NFC, casefold, whitespace collapsed); abstaining counts as a miss; the last column "
             "is the same with abstention disabled. Anchors: MTEB XQuADRetrieval (vi).\n",
             table(headers, rows), "\n"]
    for r in results:
        lines.append(f"\n- `{r['command']}` — {r['date']}; thresholds vi {r['thresholds']['vi']}, "
                     f"en {r['thresholds']['en']}; paragraphs lost in cleaning: "
                     f"{len(r['paragraphs_lost_in_cleaning'])}, questions whose answer the cleaned paragraph "
                     f"lacks: {r['answers_lost_in_cleaning']}")
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
