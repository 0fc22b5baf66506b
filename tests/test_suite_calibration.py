"""τ read across corpora (eval/suite_calibration.py): exact outcomes at any τ from one run (no model)."""
from __future__ import annotations

import pytest

from eval.suite_calibration import at, calibration, calibration_report, fit_threshold, outcome, reliability


def _r(p, kind="answerable", free_abstained=False, free_hit=True):
    return {"best_score": p, "suite": {"kind": kind, "free_abstained": free_abstained, "free_hit": free_hit}}


def test_an_outcome_is_what_tau_zero_quoted_unless_tau_withholds_it():
    assert outcome(_r(0.5)["suite"], 0.5, 0.3) == (False, True)
    assert outcome(_r(0.5)["suite"], 0.5, 0.6) == (True, False)
    # Withheld for another reason (a typed answer without its span) at every τ.
    assert outcome(_r(0.9, free_abstained=True)["suite"], 0.9, 0.0) == (True, False)
    assert outcome(_r(None)["suite"], None, 0.0) == (True, False)


def test_rates_at_a_threshold():
    rows = [_r(0.05), _r(0.2, free_hit=False), _r(0.8), _r(0.9, free_abstained=True),
            _r(0.1, kind="unanswerable"), _r(0.7, kind="unanswerable")]
    m = at(rows, 0.15)
    assert m == {"false_abstention": pytest.approx(2 / 4), "hit": pytest.approx(1 / 4),
                 "abstained_unanswerable": pytest.approx(1 / 2)}
    assert at([_r(0.1, kind="unanswerable")], 0.0)["false_abstention"] is None


def test_the_fitted_tau_keeps_every_corpus_within_the_budget():
    # Corpus a: 20 answerable, one at 0.1 and one at 0.3: 5 % abstained from just above 0.1.
    a = [_r(0.1), _r(0.3)] + [_r(0.9)] * 18
    # Corpus b: 10 answerable, the lowest at 0.05: 10 % abstained from just above 0.05.
    b = [_r(0.05)] + [_r(0.9)] * 9
    near = [_r(0.2, kind="unanswerable")]
    assert fit_threshold({"a": a}) == pytest.approx(0.3)
    assert fit_threshold({"a": a, "b": b, "near": near}) == pytest.approx(0.05)  # the stricter corpus decides
    cal = calibration({"a": a, "b": b, "near": near}, tau=0.066)
    assert cal["fitted_tau"] == pytest.approx(0.05) and 0.066 in cal["grid"]
    assert cal["corpora"]["near"]["at"]["0.5"]["abstained_unanswerable"] == 1.0
    report = calibration_report(cal)
    assert "**0.050**" in report and "| near |" in report


def test_reliability_bins_hold_the_answerable_questions_quoted_at_tau_zero():
    rows = [_r(0.95), _r(0.92, free_hit=False), _r(0.2), _r(0.5, kind="unanswerable"), _r(0.6, free_abstained=True)]
    bins = {b["bin"]: b for b in reliability(rows)}
    assert bins["0.9-1.0"]["n"] == 2 and bins["0.9-1.0"]["hit"] == 0.5
    assert bins["0.1-0.3"]["n"] == 1 and bins["0.5-0.7"]["n"] == 0 and bins["0.5-0.7"]["hit"] is None
