"""Named points of a build, so that a crash test can kill it exactly there.

The build calls ``reached(stage)`` at each point where a crash leaves a
different state on disk:

* ``model-loaded``: the embedding model is loaded, nothing written yet;
* ``shard`` (with the number of finished shards, resumed ones included): one more shard is saved
  (these two only when texts are encoded here, not on Ray);
* ``generation-written``: the new generation is complete in its temporary folder;
* ``generation-renamed``: it is in ``generations/``, but CURRENT still names the previous one;
* ``switched``: CURRENT names the new generation (older ones not pruned yet).

``QA_BUILD_HOLD`` (read here, not in ``Config``: the store writes generations
without one) turns the points on. Each reached point is then logged to stderr
(``stage: shard 3``), and at the point the variable names (``shard:3``,
``generation-written``; ``shard`` alone: the first shard) the build prints
``held at <stage>`` and blocks until it is killed. Any other value, e.g.
``none``, only logs. Unset, ``reached`` returns at once.
"""
from __future__ import annotations

import os
import sys
import threading

HOLD_ENV = "QA_BUILD_HOLD"
STAGES = ("model-loaded", "shard", "generation-written", "generation-renamed", "switched")


def reached(stage: str, count: int | None = None) -> None:
    hold = os.environ.get(HOLD_ENV)
    if not hold:
        return
    label = stage if count is None else f"{stage} {count}"
    print(f"stage: {label}", file=sys.stderr, flush=True)
    name, _, number = hold.partition(":")
    if name == stage and (not number or number == str(count)):
        print(f"held at {label}", file=sys.stderr, flush=True)
        threading.Event().wait()
