"""Settings: every knob has an environment variable, a reason, and a clear error when malformed."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from index import Config
from index.cli import main as cli_main


def test_every_field_has_an_env_var_and_a_reason():
    knobs = Config.knobs()
    assert [k[0] for k in knobs] == [f.name for f in dataclasses.fields(Config)]
    envs = [env for _, env, _, _ in knobs]
    assert len(set(envs)) == len(envs)
    assert all(why for *_, why in knobs)


@pytest.mark.parametrize("env, value, field, expected", [
    ("QA_K", "7", "k", 7),
    ("QA_WEIGHT_COVERAGE", "0.5", "weight_coverage", 0.5),
    ("QA_REQUIRE_TYPED_ANSWER", "no", "require_typed_answer", False),
    ("QA_CHUNK_SIZE", "900", "chunk_size", 900),
    ("QA_CHUNK_SEPARATORS", '["\\n", " "]', "chunk_separators", ("\n", " ")),
    ("PORT", "8080", "port", 8080),
    ("FEEDBACK_LOG", "/tmp/fb.jsonl", "feedback_log", Path("/tmp/fb.jsonl")),
])
def test_env_overrides(monkeypatch, env, value, field, expected):
    monkeypatch.setenv(env, value)
    assert getattr(Config.from_env(), field) == expected


@pytest.mark.parametrize("env, value", [("QA_K", "five"), ("PORT", "80a"), ("QA_REQUIRE_TYPED_ANSWER", "maybe"),
                                        ("QA_CHUNK_SEPARATORS", "not json")])
def test_malformed_env_is_a_clear_error(monkeypatch, env, value):
    monkeypatch.setenv(env, value)
    with pytest.raises(ValueError, match=env):
        Config.from_env()


def test_index_dir_follows_cache_dir_unless_set(monkeypatch):
    monkeypatch.delenv("INDEX_DIR", raising=False)
    monkeypatch.setenv("CACHE_DIR", "/tmp/c1")
    assert Config.from_env().index_dir == Path("/tmp/c1/index")
    assert Config.from_env(cache_dir="/tmp/c2").index_dir == Path("/tmp/c2/index")
    assert Config.from_env(index_dir="/tmp/i").index_dir == Path("/tmp/i")


def test_unknown_override_is_refused():
    with pytest.raises(TypeError, match="max_quotes"):
        Config.from_env(max_quotes=2)


def test_threshold_by_language():
    c = Config(abstain_threshold=0.6, abstain_threshold_en=0.4)
    assert (c.threshold("vi"), c.threshold("en"), c.threshold(None)) == (0.6, 0.4, 0.4)


def test_cli_config_lists_every_knob(capsys):
    import json

    assert cli_main(["config", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["env"] for r in rows} >= {"QA_K", "HOST", "PORT", "FEEDBACK_LOG", "QA_CHUNK_SIZE"}


def test_cli_rejects_k_out_of_range(capsys):
    assert cli_main(["ask", "-k", "0", "xin chào"]) == 2
    assert "-k must be between 1 and 50" in capsys.readouterr().err


def test_cli_malformed_env_exits_1_without_traceback(monkeypatch, capsys):
    monkeypatch.setenv("QA_K", "five")
    assert cli_main(["info"]) == 1
    err = capsys.readouterr().err
    assert "QA_K" in err and "Traceback" not in err


def test_parse_field_reads_values_as_the_env_does():
    assert Config.parse_field("lexicon_keyword", "false") is False
    assert Config.parse_field("k", "7") == 7
    with pytest.raises(ValueError, match="nope"):
        Config.parse_field("nope", "1")
