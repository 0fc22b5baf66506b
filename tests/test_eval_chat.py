"""``python -m eval chat``: the gold conversations, the synthetic XQuAD conversations, the evaluation end to end."""
from __future__ import annotations

import dataclasses
import json
from collections import Counter

import pytest

from eval import chat
from eval.chat_xquad import build, replace_subject, subjects_of
from eval.cli import parser
from index.text import has_diacritics

NO_ABSTENTION = -1e9


@pytest.fixture(scope="module")
def gold():
    return chat.load_conversations(chat.GOLD_CONVERSATIONS)


def test_gold_conversations_have_the_format_and_the_mix(gold):
    turns = [t for c in gold for t in c]
    assert len(gold) >= 14 and len(turns) >= 56
    assert set(Counter(t["kind"] for t in turns)) == set(chat.KINDS)
    assert all(c[0]["kind"] == "first" and any(t["kind"] == "switch" for t in c) for c in gold)
    vi = [t for t in turns if t["lang"] == "vi"]
    assert len(vi) > len(turns) / 2
    assert any(not has_diacritics(t["question"]) for t in vi), "no question typed without diacritics"
    assert any(t["lang"] == "en" for t in turns)
    dev = sum(c[0]["split"] == "dev" for c in gold)
    assert 0.4 <= dev / len(gold) <= 0.6
    asked = [(t["question"], t["answers"]) for t in turns]
    assert ("Ai là Bộ trưởng phụ trách an ninh mạng của Singapore?", ["Josephine Teo"]) in asked
    questions = [[t["question"] for t in c] for c in gold]
    assert any(q[:2] == ["Ai là Bộ trưởng phụ trách an ninh mạng của Singapore?",
                         "Bà ấy đã phát biểu gì tại phiên khai mạc?"] for q in questions)
    assert any(q[:2] == ["How many people in Vietnam use the internet?", "What share of the population is that?"]
               for q in questions)


def test_every_gold_span_is_verbatim_in_the_indexed_article(gold, fake_engine):
    articles = fake_engine.generation.articles
    missing = [(t["conversation"], t["turn"], a) for c in gold for t in c for a in t["answers"]
               if t["source"] not in articles or a not in articles[t["source"]].text]
    assert missing == []


def _turn(conversation, n, kind, question="Câu hỏi?", **extra):
    return {"conversation": conversation, "turn": n, "kind": kind, "lang": "vi", "question": question,
            "answers": ["x"], "source": "a.txt", **extra}


@pytest.mark.parametrize("rows, problem", [
    ([_turn("c", 1, "first"), _turn("c", 3, "follow-up")], "numbered"),
    ([_turn("c", 1, "follow-up")], "'first'"),
    ([_turn("c", 1, "first"), _turn("c", 2, "first")], "'first'"),
    ([_turn("c", 1, "aside")], "kind must be"),
    ([{**_turn("c", 1, "first"), "answers": []}], "answers"),
    ([_turn("c", 1, "first", split="dev"), _turn("c", 2, "switch", split="test")], "different splits"),
    ([{k: v for k, v in _turn("c", 1, "first").items() if k != "source"}], "missing source"),
])
def test_malformed_conversations_are_refused_with_the_reason(rows, problem):
    with pytest.raises(ValueError, match=problem):
        chat.conversations(rows)


# --- the synthetic set ------------------------------------------------------------


@pytest.mark.parametrize("title, lang, question, expected", [
    ("Nikola_Tesla", "vi", "Tesla chết năm nào?", "Ông ấy chết năm nào?"),
    ("Nikola_Tesla", "vi", "Danh tiếng của Tesla trong văn hóa đại chúng là gì?",
     "Danh tiếng của ông ấy trong văn hóa đại chúng là gì?"),
    ("Nikola_Tesla", "en", "What was Tesla's reputation in popular culture?",
     "What was his reputation in popular culture?"),
    ("Nikola_Tesla", "en", "When did people start to show an interest in Tesla?",
     "When did people start to show an interest in him?"),
    ("Nikola_Tesla", "en", "How did Tesla finance his work?", "How did he finance his work?"),
    ("Nikola_Tesla", "en", "What did Tesla Electric Light & Manufacturing do?", None),  # a longer name
    ("Nikola_Tesla", "en", "What was named \"Tesla\" in his honor?", None),  # a quoted word
    ("Nikola_Tesla", "en", "Who first sent radio waves across the Atlantic?", None),  # no mention
    ("Normans", "vi", "Người Norman hợp tác với ai ở Anatolia?", "Họ hợp tác với ai ở Anatolia?"),
    ("Normans", "en", "Who did the Normans team up with in Anatolia?", "Who did they team up with in Anatolia?"),
    ("Lady_Gaga", "en", "Where was Lady Gaga born?", "Where was it born?"),  # no entry: the title, as a thing
    ("Oxygen", "en", "When was liquid oxygen developed for commercial use?", None),  # a blocked longer name
])
def test_the_subject_is_replaced_by_the_pronoun_that_fits(title, lang, question, expected):
    replaced = [r for s in subjects_of(title) if (r := replace_subject(question, s, lang))]
    assert replaced == ([expected] if expected else [])


def _qa(qid, question, answer=None):
    return {"id": qid, "question": question,
            "answers": [{"text": answer or f"đáp án {qid}", "answer_start": 0}]}


def _article(title, *paragraphs):
    return {"title": title, "paragraphs": [{"context": "…", "qas": qas} for qas in paragraphs]}


@pytest.fixture(scope="module")
def tiny_xquad():
    """Four articles in XQuAD's shape (the same ids in both languages); the first has two paragraphs."""
    vi = [
        _article("Nikola_Tesla", [_qa("t1", "Tesla chết năm nào?", "1943"), _qa("t2", "Ai đã gửi sóng radio?"),
                                  _qa("t3", "Tesla đã sống ở đâu?", "New York"),
                                  _qa("t4", "Danh tiếng của Tesla là gì?")],
                 [_qa("t5", "Tesla hợp tác với ai năm 1886?"), _qa("t6", "Tesla nhận được gì đầu tiên?")]),
        _article("Warsaw", [_qa("w1", "Dân số Warsaw năm 1901 là bao nhiêu?"), _qa("w2", "Warsaw có bao nhiêu quận?")]),
        _article("Normans", [_qa("n1", "Người Norman đến từ đâu?"), _qa("n2", "Người Norman nói tiếng gì?")]),
        _article("Oxygen", [_qa("o1", "Ai phát hiện ra oxi?"), _qa("o2", "Oxi chiếm bao nhiêu phần khí quyển?")]),
    ]
    en = [
        _article("Nikola_Tesla", [_qa("t1", "What year did Tesla die?"), _qa("t2", "Who sent radio waves?"),
                                  _qa("t3", "Where did Tesla live?"), _qa("t4", "What was Tesla's reputation?")],
                 [_qa("t5", "Who did Tesla partner with in 1886?"), _qa("t6", "What did Tesla first receive?")]),
        _article("Warsaw", [_qa("w1", "What was Warsaw's population in 1901?"),
                            _qa("w2", "How many districts does Warsaw have?")]),
        _article("Normans", [_qa("n1", "Where did the Normans come from?"), _qa("n2", "What did the Normans speak?")]),
        _article("Oxygen", [_qa("o1", "Who discovered oxygen?"), _qa("o2", "How much of the air is oxygen?")]),
    ]
    return {"vi": vi, "en": en}


@pytest.mark.parametrize("seed", range(6))
def test_synthetic_conversations_replace_the_subject_and_switch_article(tiny_xquad, seed):
    rows = build(tiny_xquad, "vi", seed=seed, articles=range(4), follow_ups=2)
    convs = chat.conversations(rows)
    assert len(convs) == 2  # five paragraphs, two of the same article: one is left over
    for turns in convs:
        kinds = [t["kind"] for t in turns]
        switch = kinds.index("switch")
        assert kinds[0] == "first" and set(kinds[1:switch] + kinds[switch + 1:]) == {"follow-up"}
        assert turns[0]["source"].split("_")[0] != turns[switch]["source"].split("_")[0]
        assert all(t["question"] == t["original"] for t in (turns[0], turns[switch]))
        assert all(t["question"] != t["original"] for t in turns if t["kind"] == "follow-up")

    rows = build(tiny_xquad, "vi", seed=0, articles=range(4), follow_ups=2)
    tesla = {t["id"]: t for t in rows if t["source"] == "00_0.txt"}
    assert set(tesla) == {"t1", "t3", "t4"}  # the question without its subject is left out
    assert tesla["t3"]["question"] == "Ông ấy đã sống ở đâu?"
    assert tesla["t3"]["original"] == "Tesla đã sống ở đâu?"
    assert tesla["t3"]["answers"] == ["New York"] and tesla["t1"]["kind"] in ("first", "switch")
    english = {t["id"]: t["question"] for t in build(tiny_xquad, "en", seed=0, articles=range(4))}
    expected = {"t3": "Where did he live?", "t4": "What was his reputation?", "t6": "What did he first receive?",
                "w2": "How many districts does it have?", "n2": "What did they speak?",
                "o2": "How much of the air is it?"}
    both = english.keys() & expected.keys()
    assert len(both) >= 3 and {k: english[k] for k in both} == {k: expected[k] for k in both}
    # The Vietnamese answers go with the English questions (the corpus is the Vietnamese paragraphs).
    assert build(tiny_xquad, "en", seed=0, articles=range(4))[0]["answers"][0] in {
        qa["answers"][0]["text"] for art in tiny_xquad["vi"] for p in art["paragraphs"] for qa in p["qas"]}


def test_synthetic_conversations_are_deterministic_given_the_seed(tiny_xquad):
    def pairing(seed):
        rows = build(tiny_xquad, "vi", seed=seed, articles=range(4))
        return [(t["conversation"], t["source"]) for t in rows if t["kind"] in ("first", "switch")]

    assert build(tiny_xquad, "vi", seed=3, articles=range(4)) == build(tiny_xquad, "vi", seed=3, articles=range(4))
    assert len({tuple(pairing(seed)) for seed in range(8)}) > 1


# --- end to end with the fake engine ------------------------------------------------

A1, A3, A4 = "001_8048d615bdaf0b64.txt", "003_8bcb076a6ad5250c.txt", "004_11babb57b19a238d.txt"
NOWHERE = ["một cụm từ không có trong bài nào"]


def _conversations():
    """Near-verbatim questions of their sentence (answered right, abstention off) and follow-ups whose gold is
    nowhere (missed whatever the history does), so every number below is known in advance."""
    t = [
        ("t1", "first", "Việt Nam có 78,44 triệu người sử dụng internet tính đến đầu năm 2024, tương đương bao nhiêu "
                        "phần trăm dân số?", ["79,1%"], A4),
        ("t1", "follow-up", "Nó tương đương bao nhiêu phần trăm dân số?", NOWHERE, A4),
        ("t1", "switch", "Tại phiên khai mạc Hội nghị AMCC7, bà Josephine Teo, Bộ trưởng phụ trách về an ninh mạng và "
                         "quốc gia thông minh Singapore đã cập nhật thông tin về gì?", ["Josephine Teo"], A3),
        ("t2", "first", "Ai là Giám đốc điều hành Cơ quan an ninh mạng Singapore, người cho rằng khủng hoảng mạng "
                        "làm giảm lòng tin giữa các quốc gia?", ["David Koh"], A1),
        ("t2", "follow-up", "Ông ấy nói gì về ưu tiên của Singapore?", NOWHERE, A1),
        ("t2", "return", "Ông Jame Lewis, Phó Chủ tịch Trung tâm nghiên cứu quốc tế và chiến lược, cho rằng điều gì "
                         "còn chưa rõ ràng?", ["Jame Lewis"], A1),
    ]
    rows = []
    for conv, kind, question, answers, source in t:
        n = sum(r["conversation"] == conv for r in rows) + 1
        rows.append({"conversation": conv, "turn": n, "kind": kind, "lang": "vi", "question": question,
                     "answers": answers, "source": source, "split": "dev" if conv == "t1" else "test"})
    # The first conversation is synthetic-like: its follow-up was asked with its subject too.
    for r in rows[:3]:
        r["original"] = r["question"]
    rows[1]["original"] = "Việt Nam có 78,44 triệu người sử dụng internet, tương đương bao nhiêu phần trăm dân số?"
    return chat.conversations(rows)


def test_chat_eval_end_to_end_gives_the_numbers_known_in_advance(fake_engine, tmp_path, monkeypatch):
    engine = dataclasses.replace(fake_engine, config=fake_engine.config.with_(
        abstain_threshold=NO_ABSTENTION, abstain_threshold_en=NO_ABSTENTION, require_typed_answer=False))
    calls = []
    real = chat.answer

    def spy(engine, question, **kw):
        calls.append((question, kw.get("history")))
        return real(engine, question, **kw)

    monkeypatch.setattr(chat, "answer", spy)
    convs = _conversations()
    rows = chat.run(engine, convs, "tiny", progress=False)
    summary = chat.summarise(rows)["tiny"]
    kinds = summary["kinds"]

    for mode in chat.MODES:
        got = {kind: (m[f"source_at_1_{mode}"], m[f"hit_{mode}"]) for kind, m in kinds.items()}
        # A follow-up's gold source is right (the article) but its answer is nowhere: source@1 depends on
        # the history, the hit does not.
        assert {k: v[1] for k, v in got.items()} == {"first": 1.0, "follow-up": 0.0, "switch": 1.0, "return": 1.0,
                                                     "all": 4 / 6}, mode
        assert got["first"][0] == got["switch"][0] == got["return"][0] == 1.0, mode
    assert {k: m["n"] for k, m in kinds.items()} == {"first": 2, "follow-up": 2, "switch": 1, "return": 1, "all": 6}
    # The original question only where there is one (the first conversation): its first and switch turns
    # are asked as they are, its follow-up with the subject, and that answer is not among the gold ones.
    assert {k: m["hit_original"] for k, m in kinds.items()} == {
        "first": 1.0, "follow-up": 0.0, "switch": 1.0, "return": None, "all": 2 / 3}
    assert [q for q, _ in calls].count(rows[1]["original"]) == 1
    # The answers' context: only the two pronoun follow-ups lean on earlier turns.
    assert {k: m["history_used"] for k, m in kinds.items()} == {
        "first": 0.0, "follow-up": 1.0, "switch": 0.0, "return": 0.0, "all": 2 / 6}

    # Each turn's history is the earlier turns' Answer JSON, oldest first, and starts over per conversation.
    with_history = [(q, h) for q, h in calls if h]
    assert [len(h) for _, h in with_history] == [1, 2, 1, 2]
    q3, h3 = with_history[1]
    assert q3 == convs[0][2]["question"]
    assert [d["question"] for d in h3] == [t["question"] for t in convs[0][:2]]
    assert all("citations" in d for d in h3)
    assert h3[0] == rows[0]["with_history"]["answer"]

    lat = summary["latency_ms"]
    assert lat["turns"] == 4
    assert lat["ratio"] == pytest.approx(lat["with_history_p50"] / lat["alone_p50"])

    meta = {"command": "python -m eval chat", "date": "today", "split": "all", "scorer": "hand",
            "sets": {"tiny": {"conversations": 2, "turns": 6, "from": "test"}}}
    printed = chat.write_report(tmp_path, rows, {"tiny": summary}, meta)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| tiny | first | 2 | 100.0 | 100.0 | 100.0 | 100.0 | +0.0 | 100.0 | 0.0 |" in report
    assert "| tiny | all | 6 |" in report and "| 66.7 | +0.0 | 66.7 | 33.3 |" in report
    assert printed in report
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["conversation"], r["turn"], r["history"]) for r in lines] == [
        ("t1", 1, 0), ("t1", 2, 1), ("t1", 3, 2), ("t2", 1, 0), ("t2", 2, 1), ("t2", 3, 2)]
    assert json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["summary"]["tiny"]["kinds"] == kinds


def test_chat_command_line():
    args = parser().parse_args(["chat", "--set", "all", "--split", "dev", "--limit", "3", "-q"])
    assert (args.func, args.set, args.split, args.limit, args.quiet) == (chat.cmd_chat, "all", "dev", 3, True)
    assert parser().parse_args(["chat"]).set == "gold"
