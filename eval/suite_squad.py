"""The ``squad-beat`` corpus of ``python -m eval suite``: SQuAD articles the trained parts have not read.

    .venv/bin/python -m eval.suite_squad      # rewrites eval/data/suite-squad.json (only when the rule changes)

The answer-sentence cross-encoder and the combiner learned from the paragraphs of
``scripts/data/reranker-squad.jsonl.gz``; nearly every SQuAD train article has
some paragraph there (440 of 442). The rule: rank the articles by the share of
their paragraphs in that file (fewest first, then by article index) and take
whole articles until the corpus holds ``TARGET_PARAGRAPHS`` paragraphs; every
paragraph of a chosen article is in the corpus (the ones the training file holds
too: they are distractors, as in an archive), but questions come only from the
paragraphs the training file does not hold, at most one per paragraph, a seeded
sample of ``QUESTIONS``. The articles are shuffled with the same seed and the
first ones become the dev part until it holds half of the questions; the rest
is the test part.

The choice is written once to ``eval/data/suite-squad.json`` (titles, article
indices, question ids) and read from there, so it stays fixed when the training
file changes; training scripts can read it to leave these articles out.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "datasets" / "squad-v1.0-train.jsonl.gz"
TRAINING = ROOT / "scripts" / "data" / "reranker-squad.jsonl.gz"
SELECTION = ROOT / "eval" / "data" / "suite-squad.json"
SEED = 13
TARGET_PARAGRAPHS = 1700
QUESTIONS = 400


def read_squad(path: Path) -> tuple[dict[tuple[int, int], dict], dict[tuple[int, int], list[dict]]]:
    """({(article, paragraph): {"title", "context"}}, {(article, paragraph): [question rows]}) of the
    shared SQuAD JSON lines file."""
    paragraphs: dict[tuple[int, int], dict] = {}
    questions: dict[tuple[int, int], list[dict]] = defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            a, p, _ = (int(x) for x in row["id"].split("_"))
            paragraphs.setdefault((a, p), {"title": row["title"], "context": row["context"]})
            questions[(a, p)].append(row)
    return paragraphs, dict(questions)


def training_contexts(path: Path) -> set[str]:
    """Every paragraph text of the training file (its train and held-out splits alike)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {json.loads(line)["context"] for line in f if line.strip()}


def select(paragraphs: dict[tuple[int, int], dict], questions: dict[tuple[int, int], list[dict]],
           seen: set[str], target_paragraphs: int = TARGET_PARAGRAPHS, n_questions: int = QUESTIONS,
           seed: int = SEED) -> dict:
    """The selection (see the module's docstring) as the JSON object written to ``SELECTION``."""
    by_article: dict[int, list[int]] = defaultdict(list)
    for a, p in sorted(paragraphs):
        by_article[a].append(p)
    in_training = {a: sum(paragraphs[(a, p)]["context"] in seen for p in ps) for a, ps in by_article.items()}
    ranked = sorted(by_article, key=lambda a: (in_training[a] / len(by_article[a]), a))
    chosen, size = [], 0
    for a in ranked:
        if size >= target_paragraphs:
            break
        chosen.append(a)
        size += len(by_article[a])
    rng = random.Random(seed)
    unseen = [(a, p) for a in sorted(chosen) for p in by_article[a]
              if paragraphs[(a, p)]["context"] not in seen and questions.get((a, p))]
    picked = sorted(rng.sample(unseen, min(n_questions, len(unseen))))
    ids = {key: rng.choice(questions[key])["id"] for key in picked}
    per_article: dict[int, int] = defaultdict(int)
    for a, _ in picked:
        per_article[a] += 1
    order = sorted(chosen)
    rng.shuffle(order)
    split, dev_questions = {}, 0
    for a in order:
        split[a] = "dev" if dev_questions < len(picked) / 2 else "test"
        dev_questions += per_article[a] if split[a] == "dev" else 0
    return {
        "rule": "SQuAD v1.0 train articles ranked by the share of their paragraphs in "
                "scripts/data/reranker-squad.jsonl.gz (train or heldout), fewest first, ties by article index; "
                f"whole articles taken until the corpus holds {target_paragraphs} paragraphs; questions only from "
                f"paragraphs that file never holds, at most one per paragraph, {n_questions} sampled with the seed; "
                "articles shuffled with the seed, dev until it holds half of the questions, then test",
        "seed": seed, "paragraphs": size, "questions": len(picked),
        "articles": [{"article": a, "title": paragraphs[(a, by_article[a][0])]["title"], "split": split[a],
                      "paragraphs": len(by_article[a]), "in_training": in_training[a],
                      "questions": per_article[a]} for a in sorted(chosen)],
        "question_ids": [ids[key] for key in picked],
    }


def dumps(selection: dict) -> str:
    """JSON with one article or question id a line: small diffs when the choice changes."""
    items = []
    for key, value in selection.items():
        if isinstance(value, list):
            body = ",\n".join("  " + json.dumps(v, ensure_ascii=False) for v in value)
            items.append(f" {json.dumps(key)}: [\n{body}\n ]")
        else:
            items.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(items) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--squad", type=Path, default=SQUAD)
    p.add_argument("--training", type=Path, default=TRAINING)
    p.add_argument("--out", type=Path, default=SELECTION)
    args = p.parse_args(argv)
    paragraphs, questions = read_squad(args.squad)
    chosen = {"squad": args.squad.name, "licence": "derived from SQuAD v1.0 train: CC BY-SA 4.0",
              **select(paragraphs, questions, training_contexts(args.training))}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(chosen), encoding="utf-8")
    print(f"{len(chosen['articles'])} articles, {chosen['paragraphs']} paragraphs, {chosen['questions']} questions "
          f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
