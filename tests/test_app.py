"""The Gradio app over HTTP: the ``/ask`` endpoint with gradio_client, the API surface, rendering helpers.

The app runs in this process on a free 127.0.0.1 port, over the session's real index and model.
"""
from __future__ import annotations

import json

import httpx
import pytest
from gradio_client import Client

import app
from app_fixtures import INTERNET, INTERNET_SOURCE, launch_local, serve
from checks import assert_verbatim
from index import LiveEngine


@pytest.fixture(scope="module")
def url(engine):
    with serve(engine) as base:
        yield base


@pytest.fixture(scope="module")
def client(url):
    return Client(url, verbose=False)


def ask(client, question):
    return client.predict(question, api_name="/ask")


def assert_quotes_verbatim(engine, result):
    assert_verbatim(engine.generation.articles, result)


def test_only_ask_is_exposed(client, url):
    api = client.view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/ask"]
    assert not api["unnamed_endpoints"]
    config = httpx.get(url + "config").json()
    public = [d["api_name"] for d in config["dependencies"] if d.get("api_visibility") != "private"]
    assert public == ["ask"]


@pytest.mark.parametrize("question, source, expected", [
    ("Việt Nam có bao nhiêu người sử dụng internet?", "004_11babb57b19a238d.txt", "78,44 triệu"),
    ("so nguoi dung internet o viet nam dau nam 2024", "004_11babb57b19a238d.txt", "78,44 triệu"),
])
def test_vietnamese_questions_are_answered_with_verbatim_quotes(client, engine, question, source, expected):
    result = ask(client, question)
    assert result["language"] == "vi"
    assert not result["abstained"]
    assert result["citations"][0]["source"] == source
    assert expected in result["answer"]
    assert result["message"].startswith("Trích nguyên văn")
    assert_quotes_verbatim(engine, result)
    assert result == json.loads(json.dumps(result))  # plain JSON


def test_english_question_is_answered_from_the_vietnamese_article(client, engine):
    result = ask(client, "Which minister led Vietnam's delegation at SICW 2022?")
    assert result["language"] == "en" and not result["abstained"]
    assert result["message"].startswith("Quoted verbatim")
    c = result["citations"][0]
    assert c["source"] == "003_8bcb076a6ad5250c.txt" and "Tô Lâm" in result["answer"]
    assert {"n", "source", "title", "date", "quote", "start", "end", "score", "highlight"} <= set(c)
    assert_quotes_verbatim(engine, result)


def test_out_of_corpus_question_abstains(client):
    result = ask(client, "How do I bake sourdough bread at home?")
    assert result["abstained"] is True
    assert result["citations"] == [] and result["answer"] == ""
    assert "could not find" in result["message"].lower()
    assert result["passages"]  # closest passages, offered as related only


@pytest.mark.parametrize("question, code", [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("internet " * 334, "too_long"),
    ("Việt Nam\x00\x07 internet?", "control_chars"),
])
def test_bad_input_gets_a_message_not_an_error(client, question, code):
    result = ask(client, question)
    assert result["abstained"] is True
    assert result["error"] == code
    assert result["message"] and "Traceback" not in result["message"]
    assert result["citations"] == []


def test_lone_surrogate_over_raw_http(url):
    # gradio_client cannot even encode a lone surrogate; a raw JSON body can carry one.
    r = httpx.post(url + "gradio_api/call/ask", content='{"data": ["a\\ud800 b"]}',
                   headers={"content-type": "application/json"})
    r.raise_for_status()
    stream = httpx.get(url + f"gradio_api/call/ask/{r.json()['event_id']}", timeout=60).text
    assert "event: complete" in stream
    data = json.loads(stream.split("data:", 1)[1].strip())[0]
    assert data["error"] == "invalid_text"


def test_chat_with_a_history(engine):
    """A question after earlier turns: the history is kept, the new turn is answered as on its own."""
    chat = app.Chat(LiveEngine(engine), engine.config)
    english = "Which minister led Vietnam's delegation at SICW 2022?"
    *_, first = chat.respond(INTERNET, [], [], "Auto")
    *_, second = chat.respond("How do I bake sourdough bread at home?", first[1], first[2], "Auto")
    history, turns = second[1], second[2]
    *_, third = chat.respond(english, history, turns, "Auto")

    assert len(history) == 4 and len(turns) == 2  # the inputs are not modified
    assert third[1][:4] == history and len(third[1]) == 6
    assert third[1][4]["content"] == f'<span class="qa-question">{app.esc(english)}</span>'
    assert third[2][:2] == turns and len(third[2]) == 3
    new = third[2][2]["answer"]
    alone = chat.ask(english)
    for key in ("language", "abstained", "answer", "message", "citations"):
        assert new[key] == alone[key], key
    assert third[3] == "en" and third[2][2]["lang"] == "en"
    assert third[1][5]["content"] == app.render_answer(new, "en", engine.generation.articles,
                                                       engine.config.max_question_chars)
    # The picker offers the citations of every turn and opens the new one.
    picker = third[4]
    values = [value for _, value in picker["choices"]]
    assert "0:c:0" in values and "2:c:0" in values
    assert picker["value"] == "2:c:0" and new["citations"][0]["source"] == "003_8bcb076a6ad5250c.txt"
    assert first[2][0]["answer"]["citations"][0]["source"] == INTERNET_SOURCE


def test_launch_defaults_are_safe(engine, monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    demo = app.create_app(engine)
    launch_local(demo, host=None)
    try:
        assert demo.server_name == "127.0.0.1"
        assert demo.max_file_size == engine.config.upload_max_bytes == 5_000_000  # articles may be uploaded
        assert demo._queue.max_size == engine.config.queue_size == 32
        limits = {fn.name: fn.concurrency_limit for fn in demo.fns.values()}
        assert limits["ask"] == limits["respond"] == engine.config.concurrency == 2
    finally:
        demo.close()
