"""Derive the reranker's compact training file from SQuAD v1.0 train (CC BY-SA 4.0).

    .venv/bin/python scripts/build_reranker_data.py          # --squad ../shared/datasets/... --out scripts/data/...

A fixed-seed sample of paragraphs, each stored once with its questions and the
character offset of each answer. Whole articles are held out (every 10th
article): the answer-scorer combiner and the abstention threshold are fitted
there, never on the paragraphs the cross-encoder trained on. The output is
gzip with mtime 0, so a rebuild gives the same bytes.

Line format: {"split": "train"|"heldout", "article": int, "title": str,
"context": str, "qas": [[question, answer_start], ...]}
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import random
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "datasets" / "squad-v1.0-train.jsonl.gz"
OUT = ROOT / "scripts" / "data" / "reranker-squad.jsonl.gz"
SEED = 13


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--squad", type=Path, default=SQUAD)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--train-paragraphs", type=int, default=4000)
    p.add_argument("--heldout-paragraphs", type=int, default=800)
    p.add_argument("--questions-per-paragraph", type=int, default=3)
    args = p.parse_args(argv)

    paragraphs: dict[tuple[int, int], dict] = {}
    questions: dict[tuple[int, int], list] = defaultdict(list)
    with gzip.open(args.squad, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            a, par, _ = (int(x) for x in row["id"].split("_"))
            paragraphs.setdefault((a, par), {"article": a, "title": row["title"], "context": row["context"]})
            questions[(a, par)].append([row["question"].strip(), row["answers"][0]["answer_start"]])
    rng = random.Random(SEED)
    keys = sorted(paragraphs)
    heldout = [k for k in keys if k[0] % 10 == 0]
    train = [k for k in keys if k[0] % 10 != 0]
    chosen = [("train", k) for k in sorted(rng.sample(train, min(args.train_paragraphs, len(train))))] + \
             [("heldout", k) for k in sorted(rng.sample(heldout, min(args.heldout_paragraphs, len(heldout))))]
    buf = io.BytesIO()
    n_questions = 0
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        for split, key in chosen:
            qas = questions[key]
            qas = sorted(rng.sample(qas, min(args.questions_per_paragraph, len(qas))), key=lambda x: x[1])
            n_questions += len(qas)
            gz.write((json.dumps({"split": split, **paragraphs[key], "qas": qas}, ensure_ascii=False) + "\n")
                     .encode("utf-8"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(buf.getvalue())
    print(f"{len(chosen)} paragraphs ({args.train_paragraphs} train, {args.heldout_paragraphs} held out), "
          f"{n_questions} questions -> {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
