"""Conversation state: which questions lean on the history, what they carry, and bad history entries."""
from __future__ import annotations

import pytest

from index.conversation import BadHistory, Turn, follow_up, incompleteness

SELF_CONTAINED = [
    ("Ai là Bộ trưởng phụ trách an ninh mạng của Singapore?", "vi"),
    ("Hội thảo CLMV lần thứ hai khai mạc ngày nào?", "vi"),
    ("so nguoi dung internet o viet nam dau nam 2024", "vi"),
    ("How many people in Vietnam use the internet?", "en"),
    ("What did the law that Vietnam passed in 2018 regulate?", "en"),
    ("What is the capital of France?", "en"),
]
INCOMPLETE = [
    ("Bà ấy đã phát biểu gì tại phiên khai mạc?", "vi", "pronoun"),
    ("ba ay da phat bieu gi tai phien khai mac", "vi", "pronoun"),
    ("Họ đến từ những nước nào?", "vi", "pronoun"),
    ("Sự kiện này diễn ra ở đâu?", "vi", "pronoun"),
    ("Còn năm 2023 thì sao?", "vi", "ellipsis"),
    ("con nam 2023 thi sao", "vi", "ellipsis"),
    ("When was it signed?", "en", "pronoun"),
    ("What share of the population is that?", "en", "pronoun"),
    ("and in 2023?", "en", "ellipsis"),
    ("Why?", "en", "short"),
]


@pytest.mark.parametrize("question,language", SELF_CONTAINED)
def test_self_contained_questions_stand_alone(question, language):
    assert incompleteness(question, language) is None
    assert follow_up(question, language, [Turn("Ai là Bộ trưởng?", ("a.txt",))], boost=0.2) is None


@pytest.mark.parametrize("question,language,why", INCOMPLETE)
def test_incomplete_questions_say_why(question, language, why):
    assert incompleteness(question, language) == why


def test_no_history_means_no_follow_up():
    assert follow_up("Bà ấy đã phát biểu gì?", "vi", [], boost=0.2) is None


def test_second_turn_carries_the_first_with_a_quarter_and_boosts_its_article():
    history = [Turn("Ai là Bộ trưởng phụ trách an ninh mạng của Singapore?", ("003.txt", "002.txt"))]
    plan = follow_up("Bà ấy đã phát biểu gì tại phiên khai mạc?", "vi", history, boost=0.2)
    assert plan.why == "pronoun" and plan.turns == ((0, 0.25),)
    assert plan.boosts == (("003.txt", 0.2),)  # only the first citation of a turn
    assert plan.context(history) == [{"turn": 1, "question": history[0].question, "weight": 0.25,
                                      "why": "pronoun"}]


def test_later_turns_carry_the_topic_and_the_previous_question():
    history = [Turn("Hội nghị ASEAN về an ninh mạng lần thứ 7 diễn ra ở đâu?", ("a.txt",)),
               Turn("How many people in Vietnam use the internet?", ("b.txt",)),
               Turn("Còn năm 2023 thì sao?", ("c.txt",))]
    plan = follow_up("What share of the population is that?", "en", history, boost=0.2)
    # The topic is the latest question that stood alone (turn 2), not the first turn.
    assert plan.turns == ((1, 0.10), (2, 0.15))
    assert dict(plan.boosts) == {"c.txt": 0.2, "b.txt": 0.1}


@pytest.mark.parametrize("entry,expected", [
    ("Ai là Bộ trưởng?", Turn("Ai là Bộ trưởng?")),
    ({"question": "Q?", "citations": [{"source": "a.txt"}, {"source": "b.txt"}, {"source": "a.txt"}]},
     Turn("Q?", ("a.txt", "b.txt"))),
    ({"question": "Q?", "answer": {"citations": [{"source": "a.txt"}]}}, Turn("Q?", ("a.txt",))),
    ({"question": "Q?"}, Turn("Q?")),
])
def test_history_entries_parse(entry, expected):
    assert Turn.parse(entry) == expected


@pytest.mark.parametrize("entry,match", [
    (42, "must be a question or an Answer object, not int"),
    ("  ", "empty question"),
    ({"citations": []}, 'no "question"'),
    ({"question": "Q?", "citations": "a.txt"}, '"citations" must be a list'),
    ({"question": "Q?", "citations": [{"title": "x"}]}, '"citations" must be a list'),
])
def test_malformed_history_entries_are_named(entry, match):
    with pytest.raises(BadHistory, match=match):
        Turn.parse(entry, 3)
