"""Pick the answering sentence(s) inside the retrieved passages, and the span to highlight.

A sentence's score mixes its own similarity to the question (precomputed
sentence vectors), how many of the question's content words it contains
(diacritic-folded, so unaccented questions count) and the similarity of the
passage around it. Weights and the abstention thresholds are calibrated on the
dev split of the gold questions (``python -m eval calibrate``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .question import Question
from .retrieve import Retriever
from .text import fold, words
from .types import Hit, Quote

# Words that carry no topic: question words and function words in both languages (folded).
STOPWORDS = set("""
la cua va cac nhung mot nhu nao gi ai bao nhieu khi dau sao the thi duoc trong voi cho tai ve
co khong da dang se tu den tren theo cung nay do lam di ra vao phai o ma hay hoac boi vi nen neu
gio luc ngay nam thang nguoi
the a an of to in on at for by with from about into is are was were be been being do does did
what which who whom whose when where why how many much there this that these those it its
he she they them his her their has have had will would can could should may might and or not
""".split())

WEIGHT_SENTENCE = 0.6
WEIGHT_COVERAGE = 0.25
WEIGHT_PASSAGE = 0.15
NEIGHBOUR_MARGIN = 0.02  # a neighbour joins the quote when it scores this close to the best


@dataclass(frozen=True)
class Scored:
    row: int  # sentence row
    score: float
    dense: float
    coverage: float


def content_words(text: str) -> set[str]:
    return {w for w in (fold(t) for t in words(text)) if w not in STOPWORDS and len(w) > 1}


def coverage(question_words: set[str], sentence: str) -> float:
    """Share of the question's content words (and bigrams) present in the sentence."""
    if not question_words:
        return 0.0
    present = set(fold(w) for w in words(sentence))
    return len(question_words & present) / len(question_words)


def score_sentences(question: Question, query_vector: np.ndarray, hits: list[Hit],
                    retriever: Retriever, extra_rows: list[int]) -> list[Scored]:
    """Every candidate sentence scored, best first."""
    gen = retriever.generation
    rows: dict[int, float] = {}  # sentence row -> similarity of its best passage
    for hit in hits:
        c_row = retriever.chunk_rows[hit.chunk.id]
        passage_sim = float(gen.chunk_vectors[c_row] @ query_vector)
        for r in retriever.chunk_sentences[c_row]:
            rows[r] = max(rows.get(r, -1.0), passage_sim)
    for r in extra_rows:
        if r not in rows:
            c_row = retriever.chunk_rows[gen.sentences[r].chunk_id]
            rows[r] = float(gen.chunk_vectors[c_row] @ query_vector)
    if not rows:
        return []
    order = list(rows)
    dense = gen.sentence_vectors[order] @ query_vector
    q_words = content_words(question.text)
    scored = []
    for r, d in zip(order, dense):
        cov = coverage(q_words, gen.sentences[r].text)
        score = WEIGHT_SENTENCE * float(d) + WEIGHT_COVERAGE * cov + WEIGHT_PASSAGE * rows[r]
        scored.append(Scored(row=r, score=score, dense=float(d), coverage=cov))
    scored.sort(key=lambda s: -s.score)
    return scored


def build_quote(scored: list[Scored], retriever: Retriever, question: Question) -> Quote:
    """The best sentence, joined with an adjacent one when the answer spans both."""
    gen = retriever.generation
    best = scored[0]
    s = gen.sentences[best.row]
    start, end = s.start, s.end
    by_row = {x.row: x for x in scored}
    for neighbour in (best.row - 1, best.row + 1):
        other = by_row.get(neighbour)
        if other is None or other.score < best.score - NEIGHBOUR_MARGIN:
            continue
        n = gen.sentences[neighbour]
        if n.source == s.source and "\n" not in gen.articles[s.source].text[min(end, n.end):max(start, n.start)]:
            start, end = min(start, n.start), max(end, n.end)
    article = gen.articles[s.source]
    text = article.text[start:end]
    span = highlight(text, question)
    return Quote(
        source=article.source, title=article.title, date=article.date, text=text,
        start=start, end=end, score=best.score,
        highlight_start=None if span is None else start + span[0],
        highlight_end=None if span is None else start + span[1],
    )


# --- the span that answers the question type ----------------------------------

_DATE = re.compile(
    r"(?:ngày\s+)?\d{1,2}\s*[-–]\s*\d{1,2}/\d{1,2}/\d{4}"
    r"|(?:ngày\s+)?\d{1,2}/\d{1,2}/\d{4}"
    r"|(?:ngày\s+)?\d{1,2}[-/]\d{1,2}(?!\d)"
    r"|(?:tháng\s+)?\d{1,2}/\d{4}"
    r"|(?:năm\s+)\d{4}"
    r"|\b(?:19|20)\d{2}\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w/])(?:hơn\s+|gần\s+|khoảng\s+)?\d+(?:[.,]\d+)*(?:\s*%|\s+(?:triệu|tỷ|nghìn|ngàn|vạn)\b)?"
                     r"(?:\s+[^\W\d]+){0,2}", re.IGNORECASE)
_UPPER = "A-ZĐÀ-ỸÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝĂĨŨƠƯẠ-Ỹ"
_NAME = re.compile(rf"(?:[{_UPPER}][\w]*(?:\s+|$)){{2,5}}")
_PLACE_CUE = re.compile(r"\b(tại|ở)\s+", re.IGNORECASE)


def highlight(text: str, question: Question) -> tuple[int, int] | None:
    """(start, end) inside ``text`` of the span answering the question's type, if found."""
    q_words = content_words(question.text)
    if question.kind == "when":
        m = _DATE.search(text)
        return (m.start(), m.end()) if m else None
    if question.kind == "how_many":
        for m in _NUMBER.finditer(text):
            number = m.group(0)
            if _DATE.fullmatch(number.split()[0]) and "/" in number:
                continue
            # Keep the unit words only when they are letters after the number.
            end = m.start() + len(number.rstrip())
            return m.start(), end
        return None
    if question.kind in ("who", "where"):
        start = 0
        if question.kind == "where":
            cue = _PLACE_CUE.search(text)
            start = cue.end() if cue else 0
        for m in _NAME.finditer(text, start):
            name = m.group(0).strip()
            name_words = {fold(w).lower() for w in name.split()}
            if name_words <= q_words or m.start() == 0 and len(name.split()) < 2:
                continue
            return m.start(), m.start() + len(name)
        return None
    return None
