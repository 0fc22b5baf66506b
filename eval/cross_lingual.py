"""``python -m eval cross-lingual-shift``: how much lower cosines and word coverage run across languages.

XQuAD asks the same question in Vietnamese and in English. For each question of
the chosen part, the Vietnamese sentence holding its answer (and its paragraph)
is encoded once, and the shift is the mean of cos(vi question, target) minus
cos(en question, target): what ``QA_CROSS_LINGUAL_SHIFT`` adds to an English
question's cosines against Vietnamese text, so that a scorer fitted on
same-language pairs reads them on its own scale. For the share of question
words the sentence holds (through the lexicon for the English question,
measured in the XQuAD Vietnamese index) the report gives the difference and the
ratio of the means: the lexicon finds a fixed share of the words, so the scorer
divides English questions' coverage by that ratio
(``QA_CROSS_LINGUAL_COVERAGE_RATIO``); a question sharing no word stays at 0.
Measure on the dev part.
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


def coverages(found: list[tuple[str, str, str, str]], index_dir: Path) -> np.ndarray:
    """[n, 2]: coverage of the answer sentence for the Vietnamese question and for the other one, per
    question whose sentence is a sentence of the index (as the pipeline splits it)."""
    from index import Config
    from index.answer import STOPWORDS
    from index.extract import CoverageQuery
    from index.query import coverage_groups
    from index.question import parse
    from index.retrieve import Retriever
    from index.store import load_generation

    config = Config.from_env(index_dir=index_dir)
    generation = load_generation(index_dir)
    retriever = Retriever(generation, config)
    row_of = {s.text: row for row, s in enumerate(generation.sentences)}
    out = []
    for vi, other, sentence, _ in found:
        row = row_of.get(sentence.strip())
        if row is not None:
            words = retriever.words_of(row)
            out.append([CoverageQuery.of(coverage_groups(q, generation.languages, config, STOPWORDS),
                                         retriever.idf, retriever.unseen_idf).share(words)
                        for q in (parse(vi), parse(other))])
    return np.array(out).reshape(-1, 2)


def cmd_cross_lingual_shift(args) -> int:
    from index import Config
    from index.embedding import load_model
    from index.text import fold

    found = pairs(args.data, args.split)
    if not found:
        print("error: no XQuAD questions found", file=sys.stderr)
        return 2
    model = load_model(Config.from_env())

    def encode(texts, prompt):
        return np.asarray(model.encode(list(texts), prompt_name=prompt, normalize_embeddings=True,
                                       batch_size=32, convert_to_numpy=True))

    report = {"split": args.split, "questions": len(found)}
    # The same Vietnamese question typed without diacritics runs lower too (QA_UNACCENTED_SHIFT).
    for name, prefix in (("English", ""), ("unaccented", "unaccented_")):
        asked = found if name == "English" else [(vi, fold(vi), s, p) for vi, _, s, p in found]
        vi_q, other_q, sentences, paragraphs = (encode(col, prompt) for col, prompt in
                                                zip(zip(*asked), ("query", "query", "passage", "passage")))
        covered = coverages(asked, args.index)
        coverage_gap = covered[:, 0] - covered[:, 1]
        report[f"{prefix}coverage_ratio"] = float(covered[:, 1].mean() / max(covered[:, 0].mean(), 1e-9))
        sentence_gap = np.sum(vi_q * sentences, axis=1) - np.sum(other_q * sentences, axis=1)
        passage_gap = np.sum(vi_q * paragraphs, axis=1) - np.sum(other_q * paragraphs, axis=1)
        for what, gap in (("sentence", sentence_gap), ("passage", passage_gap), ("coverage", coverage_gap)):
            report[f"{prefix}{what}_shift"] = float(gap.mean())
            report[f"{prefix}{what}_shift_std"] = float(gap.std())
        report[f"{prefix}coverage_questions"] = len(coverage_gap)
    report["command"] = "python -m eval " + " ".join(sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


def add_parser(sub):
    p = sub.add_parser("cross-lingual-shift", help="how much lower English-Vietnamese cosines run (XQuAD)")
    p.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "xquad")
    p.add_argument("--index", type=Path, default=OUT / "xquad-index-vi",
                   help="index of the Vietnamese XQuAD paragraphs (python -m eval xquad builds it)")
    p.add_argument("--out", type=Path, default=OUT / "cross-lingual-shift.json")
    p.set_defaults(func=cmd_cross_lingual_shift)
    return p
