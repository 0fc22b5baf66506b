"""Conversation state without generation: how earlier turns shape a follow-up's retrieval.

A follow-up ("Bà ấy đã phát biểu gì?", "and in 2023?") often lacks its subject. Nothing is
rewritten. When the current question looks incomplete, retrieval also searches with the
earlier questions, with decaying weight (the first-last-current scheme of TREC CAsT: the
current question 0.75, the question that set the topic 0.10, the previous one 0.15; 0.25 for
the topic when it is the previous question), and the articles the last turns quoted get a
soft boost. The current question alone then chooses the sentence among those passages, so
the quote answers what was asked now. A self-contained question ignores the history.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .question import content_words, detect_language
from .text import fold, has_diacritics, words

CURRENT_WEIGHT = 0.75

# Words that point back to something named earlier. Accented forms are matched as typed;
# a question typed without diacritics is matched on folded forms.
PRONOUNS = {
    "vi": {"nó", "họ", "ông ấy", "bà ấy", "anh ấy", "chị ấy", "cô ấy", "ông ta", "bà ta", "anh ta",
           "cô ta", "chúng", "hắn"},
    "vi_folded": {"no", "ho", "ong ay", "ba ay", "anh ay", "chi ay", "co ay", "ong ta", "ba ta", "anh ta", "co ta"},
    "en": {"it", "its", "he", "she", "him", "his", "her", "hers", "they", "them", "their", "theirs"},
}
# "sự kiện này", "that meeting": a noun pointed back to; weaker, as these also open self-contained questions.
DEMONSTRATIVES = {"vi": {"này", "đó", "ấy", "kia", "trên"}, "vi_folded": {"ay", "kia"},
                  "en": {"this", "that", "these", "those", "there", "then"}}
ELLIPSIS = {
    "vi": re.compile(r"^(?:vay |the |va )?con\b|thi sao\W*$|^(?:va|con) (?:nam|ngay|thang)\b"),
    "en": re.compile(r"^(?:and|what about|how about|and what about|what of|same for)\b|^(?:in|for|at) \S+\W*$"),
}
SHORT = 1  # content words at or below which a question cannot name its own subject
SHORT_WITH_DEMONSTRATIVE = 4


class BadHistory(ValueError):
    """A history entry that is neither a question nor an earlier Answer; the message says which and why."""


@dataclass(frozen=True)
class Turn:
    """An earlier turn: its question, and the articles its reply quoted (best first)."""

    question: str
    sources: tuple[str, ...] = ()

    @classmethod
    def parse(cls, entry: object, n: int = 0) -> "Turn":
        """A history entry: a question string, an Answer JSON object, or ``{"question", "answer"}``."""
        if isinstance(entry, Turn):
            return entry
        if isinstance(entry, str):
            if not entry.strip():
                raise BadHistory(f"history entry {n} is an empty question")
            return cls(entry)
        if not isinstance(entry, dict):
            raise BadHistory(f"history entry {n} must be a question or an Answer object, not {type(entry).__name__}")
        question = entry.get("question")
        if not isinstance(question, str) or not question.strip():
            raise BadHistory(f"history entry {n} has no \"question\" text")
        reply = entry.get("answer") if isinstance(entry.get("answer"), dict) else entry
        citations = reply.get("citations", [])
        if not isinstance(citations, list) or not all(isinstance(c, dict) and isinstance(c.get("source"), str)
                                                      for c in citations):
            raise BadHistory(f"history entry {n}: \"citations\" must be a list of objects with a \"source\"")
        return cls(question, tuple(dict.fromkeys(c["source"] for c in citations)))


@dataclass(frozen=True)
class FollowUp:
    """How the history shapes this turn: why it looks incomplete, the weighted earlier turns, the boosts."""

    why: str  # "pronoun" | "ellipsis" | "short"
    turns: tuple[tuple[int, float], ...]  # (index into the history, weight), the current question has 0.75
    boosts: tuple[tuple[str, float], ...]  # (article source, share of the fused-score spread added)

    def context(self, history: list[Turn]) -> list[dict]:
        """The Answer JSON's ``context``: the earlier turns that shaped the answer."""
        return [{"turn": i + 1, "question": history[i].question, "weight": w, "why": self.why}
                for i, w in self.turns]


def _phrases(tokens: list[str], n: int = 2) -> set[str]:
    return set(tokens) | {" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def incompleteness(question: str, language: str) -> str | None:
    """Why ``question`` cannot stand alone ("pronoun", "ellipsis", "short"), or None when it can."""
    lowered = [w.lower() for w in words(question)]
    if language == "vi" and not has_diacritics(question):
        key, tokens = "vi_folded", [fold(w) for w in lowered]
    else:
        key, tokens = ("vi" if language == "vi" else "en"), lowered
    phrases = _phrases(tokens)
    if phrases & PRONOUNS[key]:
        return "pronoun"
    folded = " ".join(fold(w) for w in lowered)
    if ELLIPSIS["vi" if language == "vi" else "en"].search(folded):
        return "ellipsis"
    n_content = len(content_words(question))
    if n_content <= SHORT:
        return "short"
    if phrases & DEMONSTRATIVES[key] and n_content <= SHORT_WITH_DEMONSTRATIVE:
        return "pronoun"
    return None


def follow_up(question: str, language: str, history: list[Turn], boost: float) -> FollowUp | None:
    """What the history adds to ``question``'s retrieval, or None when it stands alone (or there is none)."""
    if not history:
        return None
    why = incompleteness(question, language)
    if why is None:
        return None
    last = len(history) - 1
    # The topic was set by the latest earlier question that stood alone (or the first one).
    topic = next((i for i in range(last, -1, -1)
                  if incompleteness(history[i].question, detect_language(history[i].question)) is None), 0)
    turns = ((last, 1.0 - CURRENT_WEIGHT),) if topic == last else ((topic, 0.10), (last, 0.15))
    boosts: dict[str, float] = {}
    for age, i in enumerate(range(last, max(-1, last - 2), -1)):
        for source in history[i].sources[:1]:
            boosts.setdefault(source, boost / (age + 1))
    return FollowUp(why, turns, tuple(boosts.items()))
