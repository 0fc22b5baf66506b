#!/usr/bin/env python
"""Derive the English -> Vietnamese query shift (index/data/alignment/, index/query_shift.py).

The shift is the mean query vector of Vietnamese sentences minus that of their English sources, over
the NTREX-128 stories of the suite's dev half (the test half is never read: `eval suite` measures
story retrieval there) and the Tatoeba sentences, from ``../shared/datasets/parallel-en-vi/``
(NTREX-128: CC BY-SA 4.0; Tatoeba: CC BY 2.0 FR; index/data/alignment/NOTICE.md). Only the default
embedding model is used. About a minute on two cores:

    python scripts/build_query_shift.py [--data DIR] [--out DIR]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.suite import SEED, ntrex_dev_stories  # noqa: E402
from index import Config  # noqa: E402
from index.embedding import load_model, model_id  # noqa: E402
from index.query_shift import FOLDER, QueryShift, write_query_shift  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "parallel-en-vi"


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def parallel_pairs(data: Path) -> tuple[list[tuple[str, str]], dict]:
    """(English, Vietnamese) pairs: NTREX dev-half stories, then Tatoeba; and where they came from."""
    eng, vie = lines(data / "ntrex128.eng.txt"), lines(data / "ntrex128.vie.txt")
    ids = [line.strip() for line in lines(data / "ntrex128.document_ids.tsv")]
    n = min(len(eng), len(vie), len(ids))
    dev = ntrex_dev_stories([i for i in ids[:n] if i], SEED)
    pairs = [(e, v) for e, v, i in zip(eng[:n], vie[:n], ids[:n]) if i in dev and e.strip() and v.strip()]
    ntrex = len(pairs)
    pairs += [(e, v) for e, v in zip(lines(data / "tatoeba.eng.txt"), lines(data / "tatoeba.vie.txt"))
              if e.strip() and v.strip()]
    return pairs, {"ntrex_dev_stories": len(dev), "ntrex_pairs": ntrex, "tatoeba_pairs": len(pairs) - ntrex}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DATA, help="the parallel-en-vi folder (default: %(default)s)")
    p.add_argument("--out", type=Path, default=FOLDER, help="where the shift and its manifest go (default: %(default)s)")
    args = p.parse_args(argv)
    try:
        pairs, counts = parallel_pairs(args.data)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = Config.from_env().with_(model="", backend="")
    model = load_model(config)
    t0 = time.perf_counter()
    encode = lambda texts: np.asarray(model.encode(texts, prompt_name="query", normalize_embeddings=True,
                                                   batch_size=64, show_progress_bar=True), dtype=np.float64)
    english, vietnamese = encode([e for e, _ in pairs]), encode([v for _, v in pairs])
    shift = vietnamese.mean(axis=0) - english.mean(axis=0)
    moved = english + shift
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    meta = {**counts, "pairs": len(pairs), "seed": SEED, "date": date.today().isoformat(),
            "mean_cosine_before": round(float((english * vietnamese).sum(axis=1).mean()), 4),
            "mean_cosine_after": round(float((moved * vietnamese).sum(axis=1).mean()), 4),
            "sources": "NTREX-128 (CC BY-SA 4.0), Tatoeba via LASER (CC BY 2.0 FR)",
            "script": "scripts/build_query_shift.py"}
    path = write_query_shift(QueryShift(model_id(config).split("@")[0], "en", "vi", shift.astype(np.float32), meta),
                             args.out)
    print(f"wrote {path} ({len(pairs)} pairs, mean cosine {meta['mean_cosine_before']} -> "
          f"{meta['mean_cosine_after']}, {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
