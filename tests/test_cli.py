import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from checks import assert_verbatim
from index.store import load_generation

ROOT = Path(__file__).resolve().parent.parent


def _run(*args, stdin: bytes | None = None, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "index", *args], cwd=ROOT, input=stdin,
                          capture_output=True, env=env, timeout=600)


def test_ask_json_and_show(built):
    out = _run("ask", "--index", str(built.index_dir), "--json", "Ai dẫn đầu đoàn Việt Nam tại SICW 2022?")
    assert out.returncode == 0, out.stderr.decode()
    d = json.loads(out.stdout)
    cite = d["citations"][0]
    shown = _run("show", "--index", str(built.index_dir), "--json", cite["source"])
    article = json.loads(shown.stdout)
    assert set(article) == {"source", "title", "date", "text"}
    assert article["text"][cite["start"]:cite["end"]] == cite["quote"]


def test_ask_reads_questions_from_stdin(built):
    """One JSON answer per line, in order: each from the right article, quoting it verbatim, or abstaining."""
    questions = ["How many internet users does Vietnam have?",
                 json.dumps({"id": "x7", "question": "Which minister led Vietnam's delegation at SICW 2022?"}),
                 "How do I bake sourdough bread at home?"]
    out = _run("ask", "--index", str(built.index_dir), stdin="\n".join(questions).encode())
    assert out.returncode == 0, out.stderr.decode()
    rows = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert [r["id"] for r in rows] == ["1", "x7", "3"]
    articles = load_generation(built.index_dir).articles
    for row, (source, gold) in zip(rows, [("004_11babb57b19a238d.txt", "78,44 triệu"),
                                          ("003_8bcb076a6ad5250c.txt", "Tô Lâm")]):
        assert not row["abstained"] and row["citations"][0]["source"] == source, row
        assert gold in row["citations"][0]["quote"], row
        assert_verbatim(articles, row)
    assert rows[2]["abstained"] and rows[2]["citations"] == [] and rows[2]["language"] == "en"


def test_bad_input_exit_code_2_without_traceback(built):
    for question in ["", "   ", "x" * 2001, "a\x07b"]:
        out = _run("ask", "--index", str(built.index_dir), question)
        assert out.returncode == 2, question
        assert b"Traceback" not in out.stderr
    out = _run("ask", "--index", str(built.index_dir), stdin=b"\xff\xfe\xfa bad\n")
    assert out.returncode == 2 and b"Traceback" not in out.stderr


def test_out_of_range_setting_is_a_clear_error_before_any_work(tmp_path):
    out = _run("ask", "--index", str(tmp_path / "none"), "Việt Nam có bao nhiêu người sử dụng internet?",
               env_extra={"QA_RERANK_CANDIDATES": "0"})
    assert out.returncode == 1 and b"Traceback" not in out.stderr
    assert out.stderr.decode().strip() == "error: QA_RERANK_CANDIDATES must be >= 1, not 0"
    assert out.stdout == b""


def test_missing_index_is_a_clear_error(tmp_path):
    out = _run("ask", "--index", str(tmp_path / "none"), "hello")
    assert out.returncode == 1 and b"python -m index build" in out.stderr and b"Traceback" not in out.stderr


@pytest.mark.integration  # the CLI loads the real model
def test_build_reports_cleaning_and_is_incremental(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ["002_259c0121d269dcd6.txt", "003_8bcb076a6ad5250c.txt"]:
        (corpus / name).write_bytes((ROOT / "corpus" / name).read_bytes())
    (corpus / "empty.txt").write_text("")
    index = tmp_path / "index"
    first = _run("build", "--corpus", str(corpus), "--out", str(index), "-q", "--verbose")
    assert first.returncode == 0, first.stderr.decode()
    assert b"view counter" in first.stdout and b"skipped empty.txt: empty file" in first.stderr
    again = _run("build", "--corpus", str(corpus), "--out", str(index), "-q")
    assert b"index up to date" in again.stdout
    (corpus / "new.md").write_text("Bài mới\n\nCISA và Cục An toàn thông tin ký biên bản ghi nhớ.",
                                   encoding="utf-8")
    third = _run("build", "--corpus", str(corpus), "--out", str(index), "-q")
    assert b"2 articles reused" in third.stdout, third.stdout
