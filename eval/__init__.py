"""Evaluation harness: gold questions, baselines, XQuAD and latency benchmarks.

Run ``python -m eval --help``. Everything is written to ``eval/out/`` (git-ignored)
unless ``--out`` says otherwise. The metric code lives in ``eval.metrics`` and
needs no model, so it is unit-tested on tiny hand-made cases.
"""
