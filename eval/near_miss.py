"""``python -m eval near-miss``: questions asked with their own paragraph removed, from any corpus.

The paragraphs (lines) holding the gold questions' answers are listed, and
every ``--every``-th of them is deleted from a copy of the corpus. The article's
other paragraphs, and the rest of the corpus, stay: the topic is there, the
answer is not. The questions answered by a deleted paragraph are asked, except
those whose answer still occurs somewhere in the copy (they are not misses). The copy is indexed, the
picked questions are asked, and the share abstained is the abstention recall on
near misses (higher is better), per split and language group.

``--xquad vi|en`` takes the questions from XQuAD (question language) over the
corpus ``python -m eval xquad`` wrote (one paragraph per file), instead of a gold file.
"""
from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from index import Config, prepare
from index.answer import answer

from .gold import GROUPS, GoldQuestion, load_gold
from .metrics import normalize
from .report import fmt, table
from .xquad import overrides, paragraphs_and_questions

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "out"


def xquad_questions(data: Path, question_lang: str) -> list[GoldQuestion]:
    _, questions = paragraphs_and_questions(data, "vi", question_lang)
    return [GoldQuestion(id=q["id"], lang=question_lang, question=q["question"], answers=tuple(q["answers"]),
                         source=q["sources"][0], split=q["split"]) for q in questions]


def near_miss_corpus(corpus: Path, questions: list[GoldQuestion], every: int, folder: Path
                     ) -> tuple[list[GoldQuestion], int]:
    """Write the corpus without every ``every``-th answer paragraph; (the near-miss questions, paragraphs cut).

    Paragraphs are lines. Every question whose answer sits in a removed paragraph is asked.
    """
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(corpus.iterdir())
             if p.is_file() and p.suffix in (".txt", ".md")}
    lines = {name: text.split("\n") for name, text in texts.items()}
    where: dict[tuple[str, int], list[GoldQuestion]] = {}
    for q in questions:
        wanted = [normalize(a) for a in q.answers if normalize(a)]
        found = next((i for i, line in enumerate(lines.get(q.source, []))
                      if any(a in normalize(line) for a in wanted)), None) if wanted else None
        if found is not None:
            where.setdefault((q.source, found), []).append(q)
    removed = sorted(where)[::max(1, every)]
    for source, i in removed:
        lines[source][i] = ""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, kept in lines.items():
        text = "\n".join(kept)
        if text.strip():
            (folder / name).write_text(text, encoding="utf-8")
    everything = normalize("\n".join("\n".join(kept) for kept in lines.values()))
    misses = [q for key in removed for q in where[key]
              if not any(normalize(a) and normalize(a) in everything for a in q.answers)]
    return misses, len(removed)


def cmd_near_miss(args) -> int:
    changes = overrides(args.set)
    if args.xquad:
        corpus = args.index_root / "xquad-corpus-vi"
        if not corpus.is_dir():
            print(f"error: {corpus} is missing; run `python -m eval xquad` first", file=sys.stderr)
            return 2
        questions, name = xquad_questions(args.data, args.xquad), f"xquad-vi-{args.xquad}"
    else:
        corpus, questions, name = args.corpus, load_gold(args.questions), "gold"
    tag = name + (f"-{args.name}" if args.name else "")
    work = args.index_root / f"near-miss-{name}"
    misses, cut = near_miss_corpus(corpus, questions, args.every, work / "corpus")
    config = Config.from_env(corpus_dir=work / "corpus", index_dir=work / "index").with_(**changes)
    engine = prepare(config, progress=not args.quiet)
    rows = []
    for q in tqdm(misses, desc=f"near-miss {tag}", disable=args.quiet):
        d = answer(engine, q.question).to_dict()
        rows.append({"id": q.id, "split": q.split, "group": q.group, "question": q.question,
                     "abstained": d["abstained"], "best_score": d.get("best_score"),
                     "quote": d["answer"] if not d["abstained"] else None})
    summary = {}
    for split in ("dev", "test", "all"):
        for group in GROUPS:
            part = [r for r in rows if (split == "all" or r["split"] == split) and (group == "all" or r["group"] == group)]
            if part:
                summary[f"{split}/{group}"] = {"n": len(part), "abstained": sum(r["abstained"] for r in part) / len(part)}
    report = {"tag": tag, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "command": "python -m eval near-miss " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["near-miss"]
              else "python -m eval near-miss", "settings": {k: str(v) for k, v in changes.items()},
              "picked_every": args.every, "lines_removed": cut, "questions": len(misses), "summary": summary}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"near-miss.{tag}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    with open(args.out / f"results.{tag}.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(table(["split / group", "near misses", "abstained %"],
                [[k, v["n"], fmt(100 * v["abstained"], digits=1)] for k, v in summary.items()]))
    print(f"wrote {args.out}/near-miss.{tag}.json ({len(misses)} questions, {cut} paragraphs removed)")
    return 0


def add_parser(sub):
    p = sub.add_parser("near-miss", help="abstention on questions whose own paragraph is removed (any corpus)")
    p.add_argument("--questions", type=Path, default=ROOT / "eval" / "gold" / "articles.jsonl",
                   help="gold JSON lines (default: %(default)s)")
    p.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="their corpus (default: %(default)s)")
    p.add_argument("--xquad", choices=["vi", "en"], help="XQuAD questions in this language over the vi paragraphs")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "xquad")
    p.add_argument("--every", type=int, default=4, help="remove every N-th answer paragraph (default: %(default)s)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="Config change, e.g. rerank_model=ours")
    p.add_argument("--name", help="variant name appended to the run's tag")
    p.add_argument("--index-root", type=Path, default=OUT, help="near-miss corpus and index go here")
    p.add_argument("--out", type=Path, default=OUT / "near-miss")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_near_miss)
    return p
