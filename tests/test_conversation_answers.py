"""Follow-up questions with the real model: history finds the article, the current question the sentence."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from checks import assert_verbatim
from index import answer

ROOT = Path(__file__).resolve().parent.parent
SINGAPORE = "003_8bcb076a6ad5250c.txt"
INTERNET = "004_11babb57b19a238d.txt"
MINISTER = "Ai là Bộ trưởng phụ trách an ninh mạng của Singapore?"
HER_SPEECH = "Bà ấy đã phát biểu gì tại phiên khai mạc?"
USERS = "How many people in Vietnam use the internet?"
SHARE = "What share of the population is that?"


def test_pronoun_follow_up_quotes_the_sentence_about_the_person_named_before(engine):
    first = answer(engine, MINISTER).to_dict()
    assert "Josephine Teo" in first["answer"]
    alone = answer(engine, HER_SPEECH).to_dict()
    assert "Josephine Teo" not in alone["answer"]  # without history "she" has no referent
    follow = answer(engine, HER_SPEECH, history=[first]).to_dict()
    assert not follow["abstained"] and follow["citations"][0]["source"] == SINGAPORE
    assert "Josephine Teo" in follow["answer"]
    assert follow["context"] == [{"turn": 1, "question": MINISTER, "weight": 0.25, "why": "pronoun"}]
    assert_verbatim(engine.generation.articles, follow)


@pytest.mark.parametrize("history", [[MINISTER], [{"question": MINISTER}]])
def test_unaccented_follow_up_and_plain_question_history(engine, history):
    d = answer(engine, "ba ay da phat bieu gi tai phien khai mac", history=history).to_dict()
    assert d["context"] and "Josephine Teo" in d["answer"]


def test_self_contained_question_goes_where_it_would_go_without_history(engine):
    question = "Hội thảo CLMV lần thứ hai khai mạc ngày nào?"
    alone = answer(engine, question).to_dict()
    after = answer(engine, question, history=[answer(engine, MINISTER).to_dict()]).to_dict()
    assert after["context"] == []
    for key in ("answer", "citations", "passages"):
        assert after[key] == alone[key]


def test_history_longer_than_the_cap_is_trimmed_and_said(engine):
    config = engine.config.with_(history_turns=2)
    history = [USERS, "Hội thảo CLMV lần thứ hai khai mạc ngày nào?", MINISTER]
    d = answer(engine, HER_SPEECH, history=history, config=config).to_dict()
    assert d["message"].endswith("(Chỉ dùng 2 lượt hỏi gần nhất của cuộc trò chuyện.)")
    assert [c["turn"] for c in d["context"]] == [2]  # turns counted in the trimmed history
    assert "Josephine Teo" in d["answer"]


@pytest.mark.parametrize("history,why", [
    ("not a list", "history must be a list of earlier turns, not str"),
    ([{"answer": {}}], 'history entry 1 has no "question" text'),
    ([MINISTER, 7], "history entry 2 must be a question or an Answer object, not int"),
])
def test_malformed_history_is_an_error_code_not_an_exception(engine, history, why):
    d = answer(engine, HER_SPEECH, history=history).to_dict()
    assert d["error"] == "bad_history" and d["abstained"] and d["citations"] == []
    assert d["message"] == f"Lịch sử hội thoại không hợp lệ: {why}"


def _ask(built, lines: list[dict]) -> tuple[int, list[dict], str]:
    out = subprocess.run([sys.executable, "-m", "index", "ask", "--index", str(built.index_dir)], cwd=ROOT,
                         input="\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode(),
                         capture_output=True, env=dict(os.environ), timeout=600)
    return out.returncode, [json.loads(x) for x in out.stdout.decode().splitlines()], out.stderr.decode()


def test_cli_interleaved_conversations_stay_apart(built):
    code, rows, err = _ask(built, [
        {"id": "a1", "conversation": "A", "question": MINISTER},
        {"id": "b1", "conversation": 7, "question": USERS},
        {"id": "a2", "conversation": "A", "question": HER_SPEECH},
        {"id": "b2", "conversation": 7, "question": SHARE},
        {"id": "c1", "question": HER_SPEECH},  # no conversation: no history
    ])
    assert code == 0, err
    by_id = {r["id"]: r for r in rows}
    assert [r["id"] for r in rows] == ["a1", "b1", "a2", "b2", "c1"]
    assert by_id["a2"]["conversation"] == "A" and "Josephine Teo" in by_id["a2"]["answer"]
    assert [c["question"] for c in by_id["a2"]["context"]] == [MINISTER]
    assert [c["question"] for c in by_id["b2"]["context"]] == [USERS]
    assert by_id["b2"]["citations"][0]["source"] == INTERNET and "79,1" in by_id["b2"]["answer"]
    assert by_id["c1"]["context"] == [] and "conversation" not in by_id["c1"]


def test_cli_explicit_history_and_bad_entries_exit_2(built):
    code, rows, _ = _ask(built, [
        {"id": "h", "question": HER_SPEECH, "history": [MINISTER]},
        {"id": "bad", "question": HER_SPEECH, "history": [{"citations": []}]},
        {"id": "badid", "question": HER_SPEECH, "conversation": ["x"]},
    ])
    assert code == 2
    assert "Josephine Teo" in rows[0]["answer"] and rows[0]["context"]
    assert rows[1]["error"] == "bad_history" and 'history entry 1 has no "question" text' in rows[1]["message"]
    assert rows[2]["error"] == "bad_history" and '"conversation" must be a string or a number' in rows[2]["message"]


def test_chat_follow_up_uses_its_own_history_and_clear_starts_over(engine):
    import app
    from index import LiveEngine

    chat = app.Chat(LiveEngine(engine), engine.config)
    *_, first = chat.respond(MINISTER, [], [], "Auto")
    *_, bad = chat.respond("", first[1], first[2], "Auto")  # a rejected question is not a turn
    *_, second = chat.respond(HER_SPEECH, bad[1], bad[2], "Auto")
    ans = second[2][-1]["answer"]
    assert "Josephine Teo" in ans["answer"] and [c["question"] for c in ans["context"]] == [MINISTER]
    bubble = second[1][-1]["content"]
    assert '<p class="qa-context">↪ Tiếp nối câu hỏi: “Ai là Bộ trưởng phụ trách an ninh mạng của Singapore?”' \
        in bubble
    cleared_history, cleared_turns, *_ = chat.on_clear()
    *_, fresh = chat.respond(HER_SPEECH, cleared_history, cleared_turns, "Auto")
    assert fresh[2][-1]["answer"]["context"] == [] and "qa-context" not in fresh[1][-1]["content"]


def test_ask_endpoint_takes_a_history(engine):
    """``/ask`` takes the question alone (as before) or {"question", "history"}, also over raw HTTP."""
    import httpx
    from gradio_client import Client

    from app_fixtures import serve

    def raw(url, value):
        r = httpx.post(url + "gradio_api/call/ask", json={"data": [value]}, timeout=60)
        assert r.status_code == 200, r.text[:300]
        stream = httpx.get(url + f"gradio_api/call/ask/{r.json()['event_id']}", timeout=120).text
        assert "event: complete" in stream and "Traceback" not in stream, stream[:500]
        return json.loads(stream.split("data:", 1)[1].strip())[0]

    with serve(engine) as url:
        client = Client(url, verbose=False)
        first = client.predict(MINISTER, api_name="/ask")
        assert client.predict(HER_SPEECH, api_name="/ask")["context"] == []
        follow = client.predict({"question": HER_SPEECH, "history": [first]}, api_name="/ask")
        assert "Josephine Teo" in follow["answer"] and follow["context"][0]["question"] == MINISTER
        assert raw(url, {"question": HER_SPEECH, "history": [MINISTER]})["answer"] == follow["answer"]
        for history, why in (([{"citations": []}], 'history entry 1 has no "question" text'),
                             ("not a list", "history must be a list of earlier turns, not str")):
            bad = raw(url, {"question": HER_SPEECH, "history": history})
            assert bad["error"] == "bad_history" and bad["abstained"] and why in bad["message"]
