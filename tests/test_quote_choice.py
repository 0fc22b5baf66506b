"""Which sentence is quoted, and how far the quote reaches: the place cue, the typed preference,
the neighbour margins of the learned and the hand-made scores (no model)."""
from __future__ import annotations

import pytest

from index import Config
from index.answer import prefer_typed
from index.extract import Scored, build_quote
from index.highlight import highlight
from index.question import parse

FOUNDATION = ("Là sự kiện do VNCERT phối hợp với ICT for Peace Foundation tổ chức, hội thảo CLMV lần thứ hai "
              "sẽ diễn ra trong hai ngày 12 - 13/10/2017.")
HANOI = "Hội thảo CLMV lần thứ hai sẽ diễn ra trong hai ngày 12 - 13/10/2017 tại Hà Nội."


@pytest.mark.parametrize("text,expected", [
    (HANOI, "Hà Nội"),
    ("Hội nghị được tổ chức ở thủ đô Vientiane của Lào.", "Vientiane"),
    ("The workshop was held in Hanoi on 12 October.", "Hanoi"),
    ("The treaty was signed at the Palace of Versailles.", "Palace"),
    (FOUNDATION, None),  # a capitalised organiser with no "tại"/"ở"/"in"/"at" before it is no place
])
def test_a_place_is_a_name_after_a_place_cue(text, expected):
    span = highlight(text, parse("Hội thảo diễn ra ở đâu?"))
    assert (None if span is None else text[span[0]:span[1]]) == expected


def _scored(row: int, score: float, typed: bool) -> Scored:
    return Scored(row=row, score=score, dense=0.0, coverage=0.0, typed=typed)


def test_a_typed_sentence_close_to_an_untyped_best_is_quoted_first():
    config = Config(typed_margin=0.05)
    where = parse("hoi thao to chuc o dau")
    scored = [_scored(0, 0.92, False), _scored(1, 0.91, False), _scored(2, 0.90, True), _scored(3, 0.5, True)]
    assert [s.row for s in prefer_typed(scored, where, config)] == [2, 0, 1, 3]
    # Too far below the best, untyped questions, a typed best, no margin: unchanged.
    assert prefer_typed(scored, where, config.with_(typed_margin=0.01)) == scored
    assert prefer_typed(scored, parse("Hội thảo bàn về điều gì?"), config) == scored
    typed_best = [_scored(2, 0.95, True)] + scored
    assert prefer_typed(typed_best, where, config) == typed_best
    assert prefer_typed(scored, where, config.with_(typed_margin=0.0)) == scored
    assert prefer_typed([], where, config) == []


class _Sentences(list):
    pass


class _Sentence:
    def __init__(self, source, start, end, chunk_id="a#0"):
        self.source, self.start, self.end, self.chunk_id = source, start, end, chunk_id


class _Article:
    def __init__(self, text):
        self.text, self.source, self.title, self.date, self.url = text, "a.txt", "A", "2024-01-01", None


class _Generation:
    def __init__(self, text, spans):
        self.articles = {"a.txt": _Article(text)}
        self.sentences = _Sentences(_Sentence("a.txt", a, b) for a, b in spans)


class _Retriever:
    def __init__(self, generation):
        self.generation = generation


def test_the_neighbour_margin_is_read_on_the_scale_of_the_score():
    """A neighbour 0.1 below the best joins under the learned margin (probabilities), not under the
    hand-made score's; one 0.3 below joins under neither."""
    first, second, third = "Câu một nói về hội thảo.", "Câu hai nói về diễn giả.", "Câu ba nói về khách."
    text = " ".join([first, second, third])
    spans = [(0, len(first)), (len(first) + 1, len(first) + 1 + len(second)),
             (len(first) + len(second) + 2, len(text))]
    retriever = _Retriever(_Generation(text, spans))
    q = parse("Hội thảo nói về điều gì?")
    config = Config(neighbour_margin=0.2, neighbour_margin_hand=0.02)
    scored = [_scored(1, 0.8, True), _scored(0, 0.7, True), _scored(2, 0.5, True)]
    learned = build_quote(scored, retriever, q, config, learned=True)
    hand = build_quote(scored, retriever, q, config, learned=False)
    assert learned.text == f"{first} {second}" and (learned.start, learned.end) == (0, spans[1][1])
    assert hand.text == second and learned.score == hand.score == 0.8
