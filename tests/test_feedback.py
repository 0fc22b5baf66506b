"""The feedback log and its conversion into gold-question candidates."""
from __future__ import annotations

import json

from eval.cli import main as eval_main
from eval.gold import load_gold
from index import answer, feedback

INTERNET = "Việt Nam có bao nhiêu người sử dụng internet?"


def test_log_appends_json_lines_and_reads_back(tmp_path, fake_engine):
    log = tmp_path / "fb" / "feedback.jsonl"
    d = answer(fake_engine, INTERNET).to_dict()
    feedback.append(log, feedback.make_record(d, "helpful", "model-x"))
    feedback.append(log, feedback.make_record(d, "not_helpful", "model-x"))
    with open(log, "a", encoding="utf-8") as f:
        f.write("{broken\n")
    records, bad = feedback.read(log)
    assert [r["verdict"] for r in records] == ["helpful", "not_helpful"] and bad == 1
    assert records[0]["question"] == d["question"] and records[0]["citations"][0]["source"] == d["citations"][0]["source"]
    assert records[0]["model_id"] == "model-x" and records[0]["timestamp"]


def test_eval_feedback_writes_reviewable_gold_lines(tmp_path, fake_engine, capsys):
    log = tmp_path / "feedback.jsonl"
    good = answer(fake_engine, INTERNET).to_dict()
    off = answer(fake_engine, "How do I bake sourdough bread at home?").to_dict()
    bad_input = answer(fake_engine, "").to_dict()
    for d, verdict in ((good, "not_helpful"), (good, "helpful"), (off, "helpful"), (bad_input, "helpful")):
        feedback.append(log, feedback.make_record(d, verdict, "m"))
    out = tmp_path / "candidates.jsonl"
    assert eval_main(["feedback", "--log", str(log), "--out", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2  # one per question (latest vote), the rejected one skipped
    internet, france = sorted(lines, key=lambda x: x["question"] != INTERNET)
    assert internet["review"]["verdict"] == "helpful" and internet["answers"] == ["78,44 triệu người"]
    assert internet["source"] == "004_11babb57b19a238d.txt" and internet["lang"] == "vi"
    assert france["answers"] == [] and france["source"] is None
    assert len(load_gold(out)) == 2  # valid gold format as written
    assert "2 candidate questions" in capsys.readouterr().out


def test_eval_feedback_without_log_is_a_clear_error(tmp_path, capsys):
    assert eval_main(["feedback", "--log", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o.jsonl")]) == 1
    assert "no feedback log" in capsys.readouterr().err
