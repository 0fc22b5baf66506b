"""``python -m eval select``: pick the answer sentence inside the gold XQuAD paragraph.

Retrieval left aside: every sentence of the question's own Vietnamese paragraph
is a candidate, and a scorer must put the one holding the answer first. Scorers:
the bi-encoder cosine (question vs sentence, as the pipeline embeds them), the
cross-encoder logit, and their mix ``z(cosine) + w * z(logit)`` with ``w`` chosen
on the dev part (articles 0-23) and reported on the test part (24-47).
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index import Config
from index.embedding import load_model
from index.rerank import load_reranker
from index.retrieve import zscores
from index.text import sentence_spans

from .metrics import contains_answer
from .xquad import load_squad, split_of

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


def cases(data: Path, question_lang: str) -> list[dict]:
    """{question, sentences, gold (indices of sentences holding an answer), split}, one per question."""
    vi, asked = load_squad(data / "xquad.vi.json"), {}
    for art in load_squad(data / f"xquad.{question_lang}.json"):
        for par in art["paragraphs"]:
            asked.update({qa["id"]: qa["question"] for qa in par["qas"]})
    out = []
    for a, art in enumerate(vi):
        for p, par in enumerate(art["paragraphs"]):
            text = par["context"]
            sentences = [text[s:e] for s, e in sentence_spans(text)]
            for qa in par["qas"]:
                gold = [i for i, s in enumerate(sentences) if contains_answer(s, [x["text"] for x in qa["answers"]])]
                if gold and len(sentences) > 1:
                    out.append({"question": asked[qa["id"]], "sentences": sentences, "gold": gold,
                                "split": split_of(f"{a:02d}_{p}")})
    return out


def cmd_select(args) -> int:
    config = Config.from_env().with_(rerank_model=args.rerank_model)
    model, reranker = load_model(config), load_reranker(config)
    result = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "command": "python -m eval " + " ".join(sys.argv[1:]), "rerank_model": args.rerank_model or "ours"}
    for lang in args.question_lang:
        rows = cases(args.data, lang)[::args.every]
        scored = []
        for c in tqdm(rows, desc=f"select {lang}", disable=args.quiet, file=sys.stderr):
            q = model.encode(c["question"], prompt_name="query")
            s = model.encode(c["sentences"], prompt_name="passage")
            logits = np.asarray(reranker.predict([(c["question"], t) for t in c["sentences"]]))
            scored.append((zscores(s @ q), zscores(logits), set(c["gold"]), c["split"]))

        def accuracy(split: str, w: float, only: str | None = None) -> float:
            picks = [int(np.argmax(d if only == "cosine" else x if only == "cross" else d + w * x)) in g
                     for d, x, g, sp in scored if sp == split]
            return sum(picks) / len(picks) if picks else float("nan")

        best_w = max(WEIGHTS, key=lambda w: accuracy("dev", w))
        result[lang] = {"questions": {s: sum(1 for *_, sp in scored if sp == s) for s in ("dev", "test")},
                        "mix_weight_chosen_on_dev": best_w,
                        **{s: {"cosine": accuracy(s, 0, "cosine"), "cross": accuracy(s, 0, "cross"),
                               "mix": accuracy(s, best_w)} for s in ("dev", "test")}}
        print(json.dumps({lang: result[lang]}, indent=1))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"wrote {out}")
    return 0
