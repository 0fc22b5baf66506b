"""The chat's handlers (``app.Chat``) called directly, without a browser, over the fake engine.

What the browser tests see through Chromium, checked here where Chromium is
missing too: the "loading" reply while the index loads, a vote on a message
landing on the right turn, a feedback log that cannot be written, and an index
that failed to load (in the chat and on ``/ask``).
"""
from __future__ import annotations

import json

import gradio as gr
import pytest
from gradio_client import Client

import app
from app_fixtures import INTERNET, INTERNET_SOURCE, serve
from app_text import TEXT
from fakes import GatedModel, HashEmbedder
from index import Config, LiveEngine

SOURDOUGH = "How do I bake sourdough bread at home?"
WAIT_S = 120
# Positions in what ``Chat.respond`` yields (the outputs wired in ``create_app``).
QUESTION, HISTORY, TURNS, LANG, PICKER, VIEWER = range(6)


@pytest.fixture
def chat(fake_engine, tmp_path) -> app.Chat:
    return app.Chat(LiveEngine(fake_engine), fake_engine.config.with_(feedback_log=tmp_path / "feedback.jsonl"))


def final(replies) -> tuple:
    *_, last = replies
    return last


def two_turns(chat: app.Chat) -> list[dict]:
    """Turns of a chat that asked INTERNET (answered), then SOURDOUGH (abstained)."""
    first = final(chat.respond(INTERNET, [], [], "Auto"))
    second = final(chat.respond(SOURDOUGH, first[HISTORY], first[TURNS], "Auto"))
    turns = second[TURNS]
    assert [t["answer"]["question"] for t in turns] == [INTERNET, SOURDOUGH]
    assert not turns[0]["answer"]["abstained"] and turns[1]["answer"]["abstained"]
    return turns


def log_rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def liked(index, value) -> gr.LikeData:
    """What the chatbot's like buttons send: "Like" -> True, "Dislike" -> False, unselected -> ""."""
    return gr.LikeData(None, {"index": index, "value": ["..."], "liked": value})


def test_loading_reply_while_the_engine_loads_then_the_answer(tmp_path, corpus_dir):
    model = GatedModel()  # the load stays open until the gate opens
    config = Config.from_env(corpus_dir=corpus_dir, index_dir=tmp_path / "index", scorer="hand",
                             feedback_log=tmp_path / "feedback.jsonl")
    live = LiveEngine.start(config, model=model, log=lambda m: None)
    chat = app.Chat(live, config)
    try:
        replies = chat.respond(INTERNET, [], [], "Auto")
        loading = next(replies)
        assert not live.ready
        user, waiting = loading[HISTORY]
        assert user == {"role": "user", "content": f'<span class="qa-question">{app.esc(INTERNET)}</span>'}
        assert waiting["role"] == "assistant" and 'class="qa-answer qa-loading" lang="vi"' in waiting["content"]
        assert app.esc(TEXT["vi"]["loading"]) in waiting["content"]
        assert loading[QUESTION] == gr.update()  # the question stays in the box until it is answered
        assert loading[TURNS] == [] and loading[LANG] == "vi"

        english = chat.respond(INTERNET, [], [], "English")
        assert app.esc(TEXT["en"]["loading"]) in next(english)[HISTORY][-1]["content"]
        english.close()
    finally:
        model.gate.set()

    answered = next(replies)
    user_again, reply = answered[HISTORY]
    assert user_again == user  # the loading reply is replaced, not kept
    assert "qa-loading" not in reply["content"] and "78,44 triệu" in reply["content"]
    (turn,) = answered[TURNS]
    assert turn["answer"]["citations"][0]["source"] == INTERNET_SOURCE
    assert answered[QUESTION]["value"] == ""
    with pytest.raises(StopIteration):
        next(replies)


def test_no_loading_reply_once_the_engine_is_ready(chat):
    (only,) = list(chat.respond(INTERNET, [], [], "Auto"))
    assert "qa-loading" not in only[HISTORY][-1]["content"]
    assert only[TURNS][0]["answer"]["citations"][0]["source"] == INTERNET_SOURCE


def test_like_votes_for_the_turn_of_the_message(chat):
    turns = two_turns(chat)
    log = chat.config.feedback_log
    # Messages alternate question, reply: reply 3 is turn 1's, reply 1 is turn 0's.
    assert chat.on_like(liked(3, False), turns, "en") == TEXT["en"]["feedback_saved"]
    assert chat.on_like(liked(1, True), turns, "vi") == TEXT["vi"]["feedback_saved"]
    assert chat.on_like(liked([1, 0], False), turns, "vi") == TEXT["vi"]["feedback_saved"]
    assert [(r["question"], r["verdict"]) for r in log_rows(log)] == [
        (SOURDOUGH, "not_helpful"), (INTERNET, "helpful"), (INTERNET, "not_helpful")]
    assert log_rows(log)[1]["citations"][0]["source"] == INTERNET_SOURCE


def test_unselected_like_writes_nothing(chat):
    turns = two_turns(chat)
    assert chat.on_like(liked(1, ""), turns, "vi") == gr.update()
    assert not chat.config.feedback_log.exists()


def test_select_opens_the_turn_of_the_message(chat):
    turns = two_turns(chat)
    assert chat.on_select(gr.SelectData(None, {"index": 1, "value": "..."}), turns) == gr.update(value="0:c:0")
    assert chat.on_select(gr.SelectData(None, {"index": 3, "value": "..."}), turns) == gr.update(value="1:p:0")


def test_feedback_log_not_writable_gives_a_message(chat, tmp_path):
    turns = two_turns(chat)
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    # The log's folder is a file: creating it raises an OSError.
    blocked = app.Chat(chat.live, chat.config.with_(feedback_log=blocker / "feedback.jsonl"))
    assert blocked.rate(turns, "en", "helpful") == TEXT["en"]["feedback_failed"]
    assert blocked.on_like(liked(1, True), turns, "vi") == TEXT["vi"]["feedback_failed"]
    assert blocker.read_text(encoding="utf-8") == ""
    assert blocked.rate([], "en", "helpful") == TEXT["en"]["feedback_nothing"]


@pytest.fixture
def failed(tmp_path) -> tuple[LiveEngine, Config]:
    """An engine whose load failed (no corpus folder), and its config."""
    config = Config.from_env(corpus_dir=tmp_path / "missing", index_dir=tmp_path / "index", scorer="hand",
                             feedback_log=tmp_path / "feedback.jsonl")
    live = LiveEngine.start(config, model=HashEmbedder(), log=lambda m: None)
    with pytest.raises(FileNotFoundError):
        live.wait(WAIT_S)
    return live, config


def test_chat_after_a_failed_load(failed):
    live, config = failed
    chat = app.Chat(live, config)
    assert chat.ask(INTERNET) == app.unavailable(INTERNET)
    answered = final(chat.respond(INTERNET, [], [], "Auto"))
    reply = answered[HISTORY][-1]["content"]
    assert 'class="qa-answer qa-error" lang="en"' in reply and app.esc(TEXT["en"]["load_failed"]) in reply
    assert answered[TURNS][0]["answer"]["error"] == "index_unavailable"
    # No engine to name in the record: the vote is refused with a message.
    assert chat.rate(answered[TURNS], "en", "helpful") == TEXT["en"]["feedback_failed"]
    assert not config.feedback_log.exists()
    assert app.esc(TEXT["en"]["load_failed"]) in chat.corpus_view()


def test_ask_endpoint_after_a_failed_load(failed):
    live, config = failed
    with serve(live, config) as url:
        result = Client(url, verbose=False).predict(INTERNET, api_name="/ask")
    assert result == app.unavailable(INTERNET)
    assert result["error"] == "index_unavailable" and result["message"] == TEXT["en"]["load_failed"]
