"""Settings: every knob has an environment variable, a reason, and a clear error when malformed."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from index import Config
from index.cli import main as cli_main


@pytest.fixture(autouse=True)
def no_settings(monkeypatch):
    """Only the variables a test sets: the developer's own settings would change the errors expected."""
    for _, env, _, _ in Config.knobs():
        monkeypatch.delenv(env, raising=False)


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


@pytest.mark.parametrize("env, value, message", [
    ("QA_RERANK_CANDIDATES", "0", "QA_RERANK_CANDIDATES must be >= 1, not 0"),
    ("QA_SCORER", "magic", "QA_SCORER must be one of 'learned', 'hand', not 'magic'"),
    ("QA_RETRIEVAL", "sparse", "QA_RETRIEVAL must be one of 'hybrid', 'dense', 'keyword', not 'sparse'"),
    ("QA_FUSION", "max", "QA_FUSION must be one of 'rrf', 'zscore', not 'max'"),
    ("QA_K", "0", "QA_K must be >= 1, not 0"),
    ("QA_CANDIDATES", "-3", "QA_CANDIDATES must be >= 1, not -3"),
    ("QA_RRF_K", "-1", "QA_RRF_K must be >= 0, not -1"),
    ("QA_SENTENCE_CANDIDATES", "-1", "QA_SENTENCE_CANDIDATES must be >= 0, not -1"),
    ("QA_CHUNK_SIZE", "0", "QA_CHUNK_SIZE must be >= 1, not 0"),
    ("QA_CHUNK_OVERLAP", "-5", "QA_CHUNK_OVERLAP must be >= 0, not -5"),
    ("QA_CHUNK_OVERLAP", "700", "QA_CHUNK_OVERLAP must be < QA_CHUNK_SIZE (700), not 700"),
    ("QA_CHUNK_SEPARATORS", "[]", "QA_CHUNK_SEPARATORS must be a non-empty list, not ()"),
    ("QA_ENCODE_BATCH", "0", "QA_ENCODE_BATCH must be >= 1, not 0"),
    ("QA_ENCODE_SHARD", "0", "QA_ENCODE_SHARD must be >= 1, not 0"),
    ("QA_ENCODE_ENGINE", "spark", "QA_ENCODE_ENGINE must be one of 'local', 'ray', not 'spark'"),
    ("QA_RAY_ENCODERS", "0", "QA_RAY_ENCODERS must be >= 1, not 0"),
    ("EMBED_BACKEND", "tensorflow", "EMBED_BACKEND must be one of '', 'torch', 'onnx', 'onnx-int8', 'openvino', "
                                    "not 'tensorflow'"),
    ("EMBED_DEVICE", "tpu", "EMBED_DEVICE must be one of 'auto', 'cpu', 'cuda', '', not 'tpu'"),
    ("QA_KEYWORD_WEIGHT", "-0.1", "QA_KEYWORD_WEIGHT must be >= 0, not -0.1"),
    ("QA_EXACT_SEARCH_MAX", "-1", "QA_EXACT_SEARCH_MAX must be >= 0, not -1"),
    ("QA_ANN_RECALL", "0", "QA_ANN_RECALL must be > 0 and <= 1, not 0.0"),
    ("QA_ANN_RECALL", "1.5", "QA_ANN_RECALL must be > 0 and <= 1, not 1.5"),
    ("QA_SENTENCE_SEARCH_MAX", "-1", "QA_SENTENCE_SEARCH_MAX must be >= 0, not -1"),
    ("QA_FAISS_THREADS", "0", "QA_FAISS_THREADS must be >= 1, not 0"),
    ("QA_WEIGHT_SENTENCE", "-1", "QA_WEIGHT_SENTENCE must be >= 0, not -1.0"),
    ("QA_WEIGHT_COVERAGE", "-1", "QA_WEIGHT_COVERAGE must be >= 0, not -1.0"),
    ("QA_WEIGHT_PASSAGE", "-1", "QA_WEIGHT_PASSAGE must be >= 0, not -1.0"),
    ("QA_WEIGHT_TYPE", "-1", "QA_WEIGHT_TYPE must be >= 0, not -1.0"),
    ("QA_NEIGHBOUR_MARGIN", "-0.5", "QA_NEIGHBOUR_MARGIN must be >= 0, not -0.5"),
    ("QA_NEIGHBOUR_MARGIN_HAND", "-0.5", "QA_NEIGHBOUR_MARGIN_HAND must be >= 0, not -0.5"),
    ("QA_TYPED_MARGIN", "-0.1", "QA_TYPED_MARGIN must be >= 0, not -0.1"),
    ("QA_KEYWORD_PEAK", "-1", "QA_KEYWORD_PEAK must be >= 0, not -1.0"),
    ("QA_KEYWORD_WEIGHT_PEAKED", "-0.1", "QA_KEYWORD_WEIGHT_PEAKED must be >= 0, not -0.1"),
    ("QA_RERANK_MAX_LENGTH", "-1", "QA_RERANK_MAX_LENGTH must be >= 0, not -1"),
    ("QA_RERANK_PRECISION", "fp16", "QA_RERANK_PRECISION must be one of 'int8', 'fp32', not 'fp16'"),
    ("QA_CROSS_LINGUAL_SHIFT", "nan", "QA_CROSS_LINGUAL_SHIFT must be a finite number, not nan"),
    ("QA_CROSS_LINGUAL_COVERAGE_RATIO", "0", "QA_CROSS_LINGUAL_COVERAGE_RATIO must be > 0 and <= 1, not 0.0"),
    ("QA_UNACCENTED_SHIFT", "inf", "QA_UNACCENTED_SHIFT must be a finite number, not inf"),
    ("QA_ANSWER_THRESHOLD", "1.5", "QA_ANSWER_THRESHOLD must be <= 1 (a probability, or negative for the "
                                   "calibrated threshold), not 1.5"),
    ("QA_ABSTAIN_THRESHOLD", "nan", "QA_ABSTAIN_THRESHOLD must be a finite number, not nan"),
    ("QA_ABSTAIN_THRESHOLD_EN", "-inf", "QA_ABSTAIN_THRESHOLD_EN must be a finite number, not -inf"),
    ("QA_MAX_QUESTION_CHARS", "0", "QA_MAX_QUESTION_CHARS must be >= 1, not 0"),
    ("HOST", "  ", "HOST must be a host name or address, not '  '"),
    ("PORT", "0", "PORT must be between 1 and 65535, not 0"),
    ("PORT", "65536", "PORT must be between 1 and 65535, not 65536"),
    ("QA_QUEUE_SIZE", "0", "QA_QUEUE_SIZE must be >= 1, not 0"),
    ("QA_CONCURRENCY", "0", "QA_CONCURRENCY must be >= 1, not 0"),
])
def test_out_of_range_setting_names_its_variable_and_the_allowed_values(monkeypatch, env, value, message):
    monkeypatch.setenv(env, value)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Config.from_env()


@pytest.mark.parametrize("changes, message", [
    ({"rerank_candidates": 0}, "QA_RERANK_CANDIDATES must be >= 1, not 0"),
    ({"chunk_size": 100, "chunk_overlap": 100}, "QA_CHUNK_OVERLAP must be < QA_CHUNK_SIZE (100), not 100"),
    ({"k": "5"}, "QA_K must be an integer, not '5'"),
    ({"k": 2.0}, "QA_K must be an integer, not 2.0"),
    ({"port": True}, "PORT must be an integer, not True"),
    ({"keyword_weight": "0.3"}, "QA_KEYWORD_WEIGHT must be a finite number, not '0.3'"),
    ({"require_typed_answer": 1}, "QA_REQUIRE_TYPED_ANSWER must be true or false, not 1"),
    ({"scorer": None}, "QA_SCORER must be a string, not None"),
    ({"corpus_dir": 3}, "CORPUS_DIR must be a path, not 3"),
    ({"chunk_separators": ("\n", 2)}, "QA_CHUNK_SEPARATORS must be a list of strings, not ('\\n', 2)"),
])
def test_every_way_of_making_a_config_validates_it(changes, message):
    """Direct construction and ``with_`` check like the environment does (``with_`` is how callers vary it)."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Config(**changes)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Config().with_(**changes)


def test_the_edges_of_each_range_are_accepted():
    """The meaningful extremes: no exact search, no corpus-wide sentence search, no extra sentences,
    a zero weight, the training length, a threshold that never abstains, the calibrated probability."""
    edges = dict(exact_search_max=0, sentence_search_max=0, sentence_candidates=0, rrf_k=0, keyword_weight=0,
                 weight_sentence=0, neighbour_margin=0.0, rerank_max_length=0, abstain_threshold=-1e9,
                 abstain_threshold_en=-1e9, answer_threshold=-1.0, ann_recall=1.0, cross_lingual_coverage_ratio=1.0,
                 cross_lingual_shift=-0.5, chunk_size=100, chunk_overlap=99, k=1, port=65535, backend=" ONNX ",
                 device="CPU", rerank_model="none")
    config = Config(**edges)
    assert {name: getattr(config, name) for name in edges} == edges
    assert Config(answer_threshold=1.0).answer_threshold == 1.0


def test_separators_given_as_a_list_become_a_tuple():
    """JSON and Ray actors carry the separators as a list; the Config stays hashable."""
    config = Config(chunk_separators=["\n", " "])
    assert config.chunk_separators == ("\n", " ") and hash(config) == hash(Config(chunk_separators=("\n", " ")))


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
