"""20+ `python -m index build --force` runs SIGKILLed at random moments, spread over every stage of the build.

A first build runs to the end and logs when it reaches each stage (start-up,
model loaded, shard saved, generation written, renamed, CURRENT switched, exit).
Each trial then picks a stage in turn and kills the build a random delay after
it logs that stage, drawn up to the time the first build took to the next one
(a little beyond, so some kills land after the next stage or the exit).

After each: the index verifies, is the previous generation or a complete new
one (which of the two is not asserted: the kill is random), answers verbatim,
and the next build finishes over it. Seeded (CRASH_SEED) and bounded; the table
goes to $STRESS_OUT/stress_crash.json (make stress: eval/out).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from index import build
from index.store import load_generation
from crash_trials import SEED, BuildProcess, check_trial, run_kill_trial, small_corpus

pytestmark = pytest.mark.stress
TRIALS = int(os.environ.get("CRASH_TRIALS", "20"))
CAP_SECONDS = 840
STRESS_OUT = os.environ.get("STRESS_OUT")


def stage_times(corpus: Path, base_index: Path, work: Path) -> list[tuple[str | None, float]]:
    """(stage, seconds since start) of an uninterrupted forced build, from the start (None) to its exit."""
    index = work / "index"
    shutil.copytree(base_index, index)
    with BuildProcess(corpus, index) as proc:
        assert proc.proc.wait(timeout=CAP_SECONDS) == 0, proc.stderr
        end = time.monotonic() - proc.t0
        proc.kill()
        return [(None, 0.0), *((stage, at) for at, stage in proc.stages), ("exit", end)]


def test_twenty_kills(tmp_path, engine):
    t0 = time.monotonic()
    corpus = small_corpus(tmp_path / "corpus")
    config = engine.config.with_(corpus_dir=corpus, index_dir=tmp_path / "base")
    build(config, progress=False, log=lambda m: None)
    counts = load_generation(config.index_dir).manifest["counts"]
    times = stage_times(corpus, config.index_dir, tmp_path / "timing")
    windows = [(stage, later - at) for (stage, at), (_, later) in zip(times, times[1:])]
    rng = random.Random(SEED)
    trials = []
    for i in range(TRIALS):
        assert time.monotonic() - t0 < CAP_SECONDS, f"only {i} trials within {CAP_SECONDS} s"
        after, gap = windows[i % len(windows)]
        trial = run_kill_trial(corpus, config.index_dir, tmp_path / f"t{i}", after=after,
                               delay=rng.uniform(0, 1.2 * gap))
        trials.append(check_trial(trial, engine.model, config, counts))
    rows = [{"after": t.after or "start", "delay_s": round(t.delay, 4),
             "last_stage": t.stages[-1] if t.stages else "start",
             "finished_before_kill": t.exited is not None, "index_after": t.outcome} for t in trials]
    print(f"\n{'killed after':20} {'delay s':>8}  {'last stage logged':20} index after")
    for r in rows:
        print(f"{r['after']:20} {r['delay_s']:8.3f}  {r['last_stage']:20} {r['index_after']}")
    survived = sum(1 for t in trials if t.outcome)
    print(f"{survived}/{len(trials)} trials left a loadable, answering index "
          f"({sum(t.outcome == 'new' for t in trials)} new, {sum(t.outcome == 'previous' for t in trials)} previous)")
    out = Path(STRESS_OUT) if STRESS_OUT else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    (out / "stress_crash.json").write_text(json.dumps({"stage_times_s": times, "trials": rows,
                                                       "survived": survived}, indent=1))
    assert survived == len(trials) >= 20
