"""``python -m eval cross-lingual-shift``: how much lower cosines run across languages.

XQuAD asks the same question in Vietnamese and in English. For each question of
the chosen part, the Vietnamese sentence holding its answer (and its paragraph)
is encoded once, and the shift is the mean of cos(vi question, target) minus
cos(en question, target): what ``QA_CROSS_LINGUAL_SHIFT`` adds to an English
question's cosines against Vietnamese text, so that a scorer fitted on
same-language pairs reads them on its own scale. Measure it on the dev part.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .xquad import load_squad, split_of

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "out"


def pairs(data: Path, split: str) -> list[tuple[str, str, str, str]]:
    """(vi question, en question, vi answer sentence, vi paragraph) for the questions of ``split``."""
    from index.text import sentence_spans

    vi, en = load_squad(data / "xquad.vi.json"), load_squad(data / "xquad.en.json")
    english = {qa["id"]: qa["question"] for art in en for par in art["paragraphs"] for qa in par["qas"]}
    out = []
    for a, art in enumerate(vi):
        for p, par in enumerate(art["paragraphs"]):
            if split != "all" and split_of(f"{a:02d}_{p}") != split:
                continue
            text = par["context"]
            for qa in par["qas"]:
                start = qa["answers"][0]["answer_start"]
                sentence = next((text[s:e] for s, e in sentence_spans(text) if s <= start < e), None)
                if sentence and qa["id"] in english:
                    out.append((qa["question"], english[qa["id"]], sentence, text))
    return out


def cmd_cross_lingual_shift(args) -> int:
    from index import Config
    from index.embedding import load_model

    found = pairs(args.data, args.split)
    if not found:
        print("error: no XQuAD questions found", file=sys.stderr)
        return 2
    model = load_model(Config.from_env())

    def encode(texts, prompt):
        return np.asarray(model.encode(list(texts), prompt_name=prompt, normalize_embeddings=True,
                                       batch_size=32, convert_to_numpy=True))

    vi_q, en_q, sentences, paragraphs = (encode(col, prompt) for col, prompt in
                                         zip(zip(*found), ("query", "query", "passage", "passage")))
    sentence_gap = np.sum(vi_q * sentences, axis=1) - np.sum(en_q * sentences, axis=1)
    passage_gap = np.sum(vi_q * paragraphs, axis=1) - np.sum(en_q * paragraphs, axis=1)
    report = {"split": args.split, "questions": len(found),
              "sentence_shift": float(sentence_gap.mean()), "sentence_shift_std": float(sentence_gap.std()),
              "passage_shift": float(passage_gap.mean()), "passage_shift_std": float(passage_gap.std()),
              "command": f"python -m eval cross-lingual-shift --split {args.split}"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


def add_parser(sub):
    p = sub.add_parser("cross-lingual-shift", help="how much lower English-Vietnamese cosines run (XQuAD)")
    p.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "xquad")
    p.add_argument("--out", type=Path, default=OUT / "cross-lingual-shift.json")
    p.set_defaults(func=cmd_cross_lingual_shift)
    return p
