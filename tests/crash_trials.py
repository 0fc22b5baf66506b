"""Killing builds on purpose: run ``python -m index build --force`` held at a stage, SIGKILL it, check the index.

Shared by the crash tests (``tests/test_crash_safety.py``) and the randomised kills of
``make stress`` (``tests/stress/test_stress_crash.py``).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from checks import assert_verbatim
from index import Config, Engine, answer, build, load, stages
from index.store import current_path, load_generation

ROOT = Path(__file__).resolve().parent.parent
SMALL_CORPUS = ["002_259c0121d269dcd6.txt", "003_8bcb076a6ad5250c.txt"]
SMALL_QUESTION = "Ai dẫn đầu đoàn Việt Nam tại SICW 2022?"
SMALL_SOURCE = "003_8bcb076a6ad5250c.txt"
SEED = int(os.environ.get("CRASH_SEED", "20250115"))
BOUND = 300.0  # seconds a build may take to reach a stage on a slow, shared machine


def small_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in SMALL_CORPUS:
        shutil.copy(ROOT / "corpus" / name, folder / name)
    return folder


def engine_for(index_dir: Path, model, config: Config) -> Engine:
    """An engine over the live generation of ``index_dir`` reusing an already loaded model."""
    return load(config.with_(index_dir=index_dir), model=model)


class BuildProcess:
    """``python -m index build`` in a subprocess that logs its stages (``QA_BUILD_HOLD``), read as they come.

    ``hold`` names the stage to stop at (``shard:3``); the default, ``none``, only logs.
    """

    def __init__(self, corpus: Path, index: Path, *, hold: str = "none", force: bool = True, env: dict | None = None):
        cmd = [sys.executable, "-m", "index", "build", "-q", "--corpus", str(corpus), "--out", str(index)]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {}),
               stages.HOLD_ENV: hold}
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd + ["--force"] * force, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.stderr = ""
        self.stages: list[tuple[float, str]] = []  # (seconds since start, stage) as logged
        self._eof = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while chunk := os.read(self.proc.stderr.fileno(), 65536):
            with self._changed:
                done = self.stderr.count("\n")
                self.stderr += chunk.decode("utf-8", "replace")
                for line in self.stderr.split("\n")[done:-1]:
                    if found := re.search(r"stage: (\S+(?: \d+)?)$", line):
                        self.stages.append((time.monotonic() - self.t0, found.group(1)))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def wait_for(self, line: str, timeout: float = BOUND) -> bool:
        """True once ``line`` is logged, False when the build exits without it; fails after ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: f"{line}\n" in self.stderr or self._eof, timeout)
            if f"{line}\n" in self.stderr:
                return True
            assert self._eof, f"no {line!r} within {timeout:.0f} s; stderr so far:\n{self.stderr}"
            return False

    def kill(self) -> int | None:
        """SIGKILL the build; its return code when it had already finished, else None."""
        exited = self.proc.poll()
        if exited is None:
            self.proc.kill()
        self.proc.wait(timeout=60)
        self._reader.join(timeout=60)
        self.proc.stderr.close()
        return exited

    def __enter__(self) -> "BuildProcess":
        return self

    def __exit__(self, *exc) -> None:
        if not self.proc.stderr.closed:
            self.kill()


def held_label(hold: str) -> str:
    """How a build logs the stage ``QA_BUILD_HOLD=hold`` names: ``shard:3`` -> ``shard 3``."""
    return hold.replace(":", " ")


@dataclass
class Trial:
    index_dir: Path
    previous: str  # the generation that was live before the build
    hold: str | None = None  # the stage the build was held at when killed
    after: str | None = None  # random kills: the stage after which the delay ran (None: the start)
    delay: float = 0.0
    stages: list[str] = field(default_factory=list)  # the stages the build logged before it died
    exited: int | None = None  # return code when the build finished before the kill
    outcome: str = ""  # "previous" | "new"


def run_kill_trial(corpus: Path, base_index: Path, work: Path, *, hold: str | None = None,
                   after: str | None = None, delay: float = 0.0) -> Trial:
    """Copy ``base_index`` and SIGKILL a forced rebuild into it.

    ``hold``: the build stops at that stage and is killed there. Otherwise it is
    killed ``delay`` seconds after it logs the stage ``after`` (None: after it starts),
    unless it finished first.
    """
    index = work / "index"
    shutil.copytree(base_index, index)
    trial = Trial(index, current_path(index).name, hold, after, delay)
    with BuildProcess(corpus, index, hold=hold or "none") as proc:
        if hold:
            assert proc.wait_for(f"held at {held_label(hold)}"), f"the build exited before {hold}:\n{proc.stderr}"
        else:
            if after is None or proc.wait_for(f"stage: {after}"):
                try:
                    proc.proc.wait(timeout=delay)
                except subprocess.TimeoutExpired:
                    pass  # still running: the kill lands at the drawn moment
        trial.exited = proc.kill()
        trial.stages = [label for _, label in proc.stages]
    return trial


def check_trial(trial: Trial, model, config: Config, expected_counts: dict, expect: str | None = None) -> Trial:
    """The live generation verifies, is the previous one or the complete new one (``expect``, when given),
    answers verbatim, and the next build finishes over whatever the kill left behind."""
    gen = load_generation(trial.index_dir)  # verifies every checksum
    trial.outcome = "previous" if gen.name == trial.previous else "new"
    if expect:
        assert trial.outcome == expect, trial
    if trial.outcome == "new":
        assert gen.manifest["counts"] == expected_counts
    assert trial.exited in (None, 0), trial
    engine = engine_for(trial.index_dir, model, config)
    d = answer(engine, SMALL_QUESTION).to_dict()
    assert not d["abstained"] and d["citations"][0]["source"] == SMALL_SOURCE
    assert_verbatim(engine.generation.articles, d)
    # A temporary folder, encoded shards or a generation CURRENT never named may be left: the next build copes.
    result = build(config.with_(index_dir=trial.index_dir), force=True, progress=False, log=lambda m: None,
                   model=model)
    rebuilt = load_generation(trial.index_dir)
    assert rebuilt.name == result.generation != gen.name and rebuilt.manifest["counts"] == expected_counts
    return trial
