"""Fit the answer scorer's combiner and abstention threshold on held-out SQuAD articles.

    .venv/bin/python scripts/fit_combiner.py            # after scripts/train_reranker.py (make train-reranker)

The held-out paragraphs of ``scripts/data/reranker-squad.jsonl.gz`` (whole
articles the cross-encoder never saw) become a corpus, indexed with the real
embedding model. Every question runs through the real pipeline up to its
candidate sentences; each candidate gets the pipeline's features plus the
cross-encoder's logit, labelled by whether it is the answer sentence of the
right paragraph. A logistic regression over those features gives the
probability of answering; a second one, fitted without the cross-encoder's
logit, scores when there is none. Each threshold is set so that at most 5 % of the
answerable questions (answer sentence among the candidates) are abstained on;
its effect is reported on near misses: the same questions with their own
paragraph's sentences removed from the candidates. Writes
``index/data/reranker/combiner.json`` and adds it to the manifest.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import Config, prepare  # noqa: E402
from index.answer import candidates  # noqa: E402
from index.combiner import COMBINER_FILE, FEATURES, Combiner, features, fit_logistic  # noqa: E402
from index.files import atomic_write_text, sha256_file  # noqa: E402
from index.question import parse  # noqa: E402
from index.rerank import DEFAULT_DELTA, load_reranker  # noqa: E402

DATA = ROOT / "scripts" / "data" / "reranker-squad.jsonl.gz"
WORK = ROOT / ".cache" / "combiner-fit"
MAX_FALSE_ABSTENTION = 0.05


def heldout(limit: int) -> list[dict]:
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        rows = [r for r in map(json.loads, f) if r["split"] == "heldout"]
    return rows[:limit]


def fit(names: tuple[str, ...], x: np.ndarray, y: np.ndarray, best: list, paragraphs: int) -> Combiner:
    """A combiner over the ``names`` columns, its threshold at MAX_FALSE_ABSTENTION of the answerable questions."""
    columns = [FEATURES.index(f) for f in names]
    weights, bias = fit_logistic(x[:, columns], y)
    combiner = Combiner(tuple(map(float, weights)), bias, 0.0, {}, names)
    answerable = [float(combiner.probability(qx).max()) for qx, qy, _ in best if qy.any()]
    near_miss = [float(combiner.probability(qx[~own]).max()) for qx, qy, own in best if (~own).any()]
    right = [bool(qy[int(np.argmax(combiner.probability(qx)))]) for qx, qy, _ in best if qy.any()]
    threshold = float(np.quantile(answerable, MAX_FALSE_ABSTENTION))
    meta = {
        "fitted_on": f"{paragraphs} held-out SQuAD paragraphs, {len(best)} questions, {len(y)} candidates",
        "candidates_per_question": int(max(len(qx) for qx, _, _ in best)), "answerable_questions": len(answerable),
        "top_candidate_right": float(np.mean(right)),
        "false_abstention_at_threshold": float(np.mean(np.array(answerable) < threshold)),
        "near_miss_abstention_at_threshold": float(np.mean(np.array(near_miss) < threshold)),
        "date": time.strftime("%Y-%m-%d"),
    }
    return replace(combiner, threshold=threshold, meta=meta)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--paragraphs", type=int, default=400)
    p.add_argument("--delta", type=Path, default=DEFAULT_DELTA, help="folder of the delta; combiner.json goes there")
    p.add_argument("--work", type=Path, default=WORK, help="the held-out corpus and its index (default %(default)s)")
    args = p.parse_args(argv)
    rows = heldout(args.paragraphs)
    corpus = args.work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for stale in corpus.glob("*.txt"):  # from a run with more paragraphs
        stale.unlink()
    for i, row in enumerate(rows):
        (corpus / f"{i:04d}.txt").write_text(row["context"].strip() + "\n", encoding="utf-8")
    config = Config.from_env(corpus_dir=corpus, index_dir=args.work / "index").with_(scorer="hand")
    engine = prepare(config, progress=False)
    reranker = load_reranker(config.with_(rerank_model="ours"), args.delta)
    n = config.rerank_candidates
    x_all, y_all, best = [], [], []  # candidate features/labels; per question (p-independent parts)
    t0 = time.perf_counter()
    for i, row in enumerate(rows):
        source = f"{i:04d}.txt"
        for question, start in row["qas"]:
            answer_text = row["context"][start:start + 40].split(".")[0].strip()
            q = parse(question)
            _, scored = candidates(engine, q, config)
            top = scored[:n]
            if not top:
                continue
            sentences = [engine.generation.sentences[s.row] for s in top]
            logits = reranker.predict([(q.text, s.text) for s in sentences])
            x = features(top, logits, q.kind is not None)
            y = np.array([s.source == source and answer_text[:20] in s.text for s in sentences], dtype=float)
            own = np.array([s.source == source for s in sentences])
            x_all.append(x)
            y_all.append(y)
            best.append((x, y, own))
        if i % 50 == 0:
            print(f"{i}/{len(rows)} paragraphs, {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    x, y = np.vstack(x_all), np.concatenate(y_all)
    combiner = fit(FEATURES, x, y, best, len(rows))
    without_cross = fit(tuple(f for f in FEATURES if f != "cross"), x, y, best, len(rows))
    out = args.delta / COMBINER_FILE
    fitted = {**combiner.to_dict(), "without_cross": without_cross.to_dict()}
    atomic_write_text(out, json.dumps(fitted, indent=1) + "\n")
    manifest_path = args.delta / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"][COMBINER_FILE] = sha256_file(out)
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1) + "\n")
    for name, c in (("combiner", combiner), ("without the cross-encoder", without_cross)):
        print(name, json.dumps({"weights": dict(zip(c.features, c.weights)), "bias": c.bias,
                                "threshold": c.threshold, **c.meta}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
