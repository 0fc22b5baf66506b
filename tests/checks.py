"""Assertions shared by the tests."""
from __future__ import annotations


def assert_verbatim(articles: dict, answer: dict) -> None:
    """Every citation quotes its article exactly at its offsets, and its highlight lies inside the quote.

    ``articles`` maps source -> Article (``engine.generation.articles``); ``answer`` is an Answer JSON.
    """
    for c in answer["citations"]:
        assert c["source"] in articles, c["source"]
        assert c["quote"] == articles[c["source"]].text[c["start"]:c["end"]], c
        h = c.get("highlight")
        if h:
            assert c["start"] <= h["start"] < h["end"] <= c["end"], c
    if answer["citations"]:
        assert answer["answer"] == answer["citations"][0]["quote"]  # the first citation is the answer
