"""Pick the answering sentence(s) inside the retrieved passages, and the span to highlight.

A sentence's score mixes its own similarity to the question (precomputed
sentence vectors), how many of the question's content words it contains
(diacritic-folded, so unaccented questions count) and the similarity of the
passage around it; the weights are ``Config.weight_*``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .config import Config
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


@dataclass(frozen=True)
class Scored:
    row: int  # sentence row
    score: float
    dense: float
    coverage: float
    typed: bool  # holds a span of the asked type (always True for untyped questions)


def content_words(text: str) -> set[str]:
    return {w for w in (fold(t) for t in words(text)) if w not in STOPWORDS and len(w) > 1}


def coverage(question_words: set[str], sentence_words: set[str], idf: dict[str, float],
             unseen_idf: float) -> float:
    """IDF-weighted share of the question's content words present in the sentence.

    Words the corpus never uses weigh the most, so a question about something
    the articles do not discuss scores low everywhere, whatever common words
    ("Việt Nam", "quốc tế") it shares with them.
    """
    if not question_words:
        return 0.0
    weights = {w: idf.get(w, unseen_idf) for w in question_words}
    total = sum(weights.values())
    return sum(v for w, v in weights.items() if w in sentence_words) / total if total else 0.0


def score_sentences(question: Question, query_vector: np.ndarray, hits: list[Hit],
                    retriever: Retriever, extra_rows: list[int], config: Config) -> list[Scored]:
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
    # English words never occur in the articles: only names and numbers can match.
    q_words = content_words(question.text if question.language == "vi" else question.keywords)
    scored = []
    for r, d in zip(order, dense):
        text = gen.sentences[r].text
        cov = coverage(q_words, retriever.sentence_words[r], retriever.idf, retriever.unseen_idf)
        typed = question.kind is None or highlight(text, question) is not None
        score = (config.weight_sentence * float(d) + config.weight_coverage * cov
                 + config.weight_passage * rows[r] + (config.weight_type if typed and question.kind else 0.0))
        scored.append(Scored(row=r, score=score, dense=float(d), coverage=cov, typed=typed))
    scored.sort(key=lambda s: -s.score)
    return scored


def build_quote(scored: list[Scored], retriever: Retriever, question: Question, config: Config) -> Quote:
    """The best sentence, joined with an adjacent one when the answer spans both."""
    gen = retriever.generation
    best = scored[0]
    s = gen.sentences[best.row]
    start, end = s.start, s.end
    by_row = {x.row: x for x in scored}
    for neighbour in (best.row - 1, best.row + 1):
        other = by_row.get(neighbour)
        # Join a neighbour that scores almost as well, or one that holds the
        # asked-for date/number/name the best sentence lacks.
        if other is None or not (other.score >= best.score - config.neighbour_margin
                                 or (other.typed and not best.typed)):
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

_DAY = (r"(?:(?:sáng|chiều|tối|trưa)\s+)?(?:ngày\s+)?(?:\d{1,2}\s*[-–]\s*)?\d{1,2}[/-]\d{1,2}"
        r"(?:[/-]\d{4})?(?![\d/])")
_MONTH = r"(?:tháng\s+)?\d{1,2}/\d{4}\b|tháng\s+\d{1,2}\b"
_YEAR = r"(?:năm\s+)?\b(?:19|20)\d{2}\b"
_DATES_BY_PRECISION = [re.compile(p, re.IGNORECASE) for p in (_DAY, _MONTH, _YEAR)]
_DATE = re.compile("|".join((_DAY, _MONTH, _YEAR)), re.IGNORECASE)
# A number with its multiplier or unit: "78,44 triệu", "64,78%", "hơn 150 quốc gia".
_NUMBER = re.compile(
    r"(?<![\w/.,-])(?:(?:hơn|gần|khoảng|trên|dưới)\s+)?\d+(?:[.,]\d+)*(?![\d/-])"
    r"(?:\s*%(?:\s+[^\W\d]+){0,2}|\s+(?:triệu|tỷ|nghìn|ngàn)(?:\s+[^\W\d]+)?|(?:\s+[^\W\d]+){1,2})?",
    re.IGNORECASE)
_TOKEN = re.compile(r"[^\W\d_][\w&]*\.?")
# Words that open organisation names or titles, not people.
_NOT_PERSON = {"bo", "cuc", "co", "hoi", "trung", "lien", "uy", "hoc", "truong", "ban", "vien",
               "so", "cong", "quan", "hiep", "dai", "thu", "pho", "chu", "tong", "ngay", "theo", "tai",
               "ong", "ba", "viet", "nhat", "tuan", "dien", "trien", "thieu", "trong", "sau", "voi"}
_PERSON_CUE = re.compile(r"(?:ông|bà|tướng|trưởng|sứ|tá|thư ký|lệnh|GS\.|TS\.|Mr\.?|Ms\.?)\s*$", re.IGNORECASE)
_PLACE_CUE = re.compile(r"(?:tại|ở)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


def _capitalised_runs(text: str) -> list[tuple[int, int]]:
    """Spans of consecutive capitalised words ("Trần Quang Hưng", "K. Shanmugam")."""
    runs: list[list[int]] = []
    prev_end = -2
    for m in _TOKEN.finditer(text):
        word = m.group(0)
        if not word[0].isupper():
            prev_end = -2
            continue
        if runs and text[prev_end:m.start()] in (" ", "") and prev_end >= 0:
            runs[-1][1] = m.end()
        else:
            runs.append([m.start(), m.end()])
        prev_end = m.end() if not word.endswith(".") or len(word) <= 2 else -2
    return [(a, b - 1 if text[b - 1] == "." and b - a > 2 else b) for a, b in runs]


def _name_span(text: str, question_words: set[str], cue: re.Pattern,
               min_words: int) -> tuple[int, int] | None:
    fallback = None
    for start, end in _capitalised_runs(text):
        name = text[start:end]
        parts = [fold(w).lower().rstrip(".") for w in name.split()]
        # Leading title words ("Bà", "Đại sứ") are not the name.
        while parts and parts[0] in _NOT_PERSON:
            skip = len(name.split()[0]) + 1
            start, name, parts = start + skip, name[skip:], parts[1:]
        if len(parts) < min_words or set(parts) <= question_words:
            continue
        if cue.search(text[max(0, start - 20):start]):
            return start, end
        # Without a cue, a capitalised sentence opening ("Lễ khai mạc") is no name.
        if fallback is None and start > 0 and len(parts) >= 2:
            fallback = (start, end)
    return fallback


def highlight(text: str, question: Question) -> tuple[int, int] | None:
    """(start, end) inside ``text`` of the span answering the question's type, if found."""
    q_words = content_words(question.text)
    if question.kind == "when":
        # The most specific date wins: a day over a month over a bare year;
        # a date the question already states ("SICW 2022") is not the answer.
        asked = fold(question.text).lower()
        for pattern in _DATES_BY_PRECISION:
            for m in pattern.finditer(text):
                if re.sub(r"^\D+", "", fold(m.group(0)).lower()) not in asked:
                    return m.start(), m.end()
        return None
    if question.kind == "how_many":
        pos = 0
        while (m := _NUMBER.search(text, pos)) is not None:
            digits = re.search(r"\d[\d.,]*", m.group(0))
            if re.fullmatch(r"(?:19|20)\d\d", digits.group(0)):  # a year, not a count
                pos = m.start() + digits.end()
                continue
            return m.start(), m.end()
        return None
    if question.kind == "who":
        return _name_span(text, q_words, _PERSON_CUE, min_words=2)
    if question.kind == "where":
        return _name_span(text, q_words, _PLACE_CUE, min_words=1)
    return None
