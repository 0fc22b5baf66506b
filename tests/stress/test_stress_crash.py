"""20+ SIGKILLed `python -m index build --force` runs (two at a time), spread over start-up,
model load, encoding, the write of the new generation and the CURRENT switch.

After each: the index loads (every checksum verified), is the previous
generation or a complete new one, and answers. Seeded (CRASH_SEED) and bounded.
"""
from __future__ import annotations

import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from index import build
from index.store import load_generation
from test_crash_safety import SEED, check_trial, run_kill_trial, small_corpus

pytestmark = pytest.mark.stress
TRIALS = int(os.environ.get("CRASH_TRIALS", "20"))
CAP_SECONDS = 840
OUT = Path(__file__).resolve().parents[2] / "eval" / "out"


def test_twenty_kills(tmp_path, engine):
    corpus = small_corpus(tmp_path / "corpus")
    config = engine.config.with_(corpus_dir=corpus, index_dir=tmp_path / "base")
    build(config, progress=False, log=lambda m: None)
    counts = load_generation(config.index_dir).manifest["counts"]
    rng = random.Random(SEED)
    modes = ["time", "encode", "write", "switch"]
    plan = []
    for i in range(TRIALS):
        mode = modes[i % 4]
        delay = {"time": rng.uniform(0.2, 16), "encode": rng.uniform(0, 3), "write": rng.uniform(0, 0.05),
                 "switch": rng.uniform(0, 0.003)}[mode]
        plan.append((mode, delay))
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run_kill_trial, corpus, config.index_dir, tmp_path / f"t{i}", m, d)
                   for i, (m, d) in enumerate(plan)]
        trials = [f.result(timeout=max(1, CAP_SECONDS - (time.monotonic() - t0))) for f in futures]
    for t in trials:
        check_trial(t, engine.model, config, counts)
    rows = [{"mode": t.mode, "delay_s": round(t.delay, 4), "killed_after_s": round(t.killed_after, 2),
             "finished_before_kill": t.exited is not None, "index_after": t.outcome} for t in trials]
    print(f"\n{'mode':8} {'delay s':>8} {'killed at s':>11}  index after")
    for r in rows:
        print(f"{r['mode']:8} {r['delay_s']:8.3f} {r['killed_after_s']:11.2f}  {r['index_after']}")
    survived = sum(1 for t in trials if t.outcome)
    print(f"{survived}/{len(trials)} trials left a loadable, answering index "
          f"({sum(t.outcome == 'new' for t in trials)} new, {sum(t.outcome == 'previous' for t in trials)} previous)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "stress_crash.json").write_text(json.dumps({"trials": rows, "survived": survived}, indent=1))
    assert survived == len(trials) >= 20
