"""Pick the answering sentence(s) inside the retrieved passages, and the span to highlight.

A sentence's score mixes its own similarity to the question (precomputed
sentence vectors), how many of the question's content words it contains
(diacritic-folded, so unaccented questions count) and the similarity of the
passage around it; the weights are ``Config.weight_*``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Config
from .highlight import highlight
from .query import Group
from .question import Question
from .retrieve import Retriever
from .types import Hit, Quote

@dataclass(frozen=True)
class Scored:
    row: int  # sentence row
    score: float
    dense: float
    coverage: float
    typed: bool  # holds a span of the asked type (always True for untyped questions)
    passage: float = 0.0  # cosine of the best retrieved passage holding it
    cross: float | None = None  # the cross-encoder's logit, when the learned scorer ran


@dataclass(frozen=True)
class Alternative:
    options: tuple[frozenset[str], ...]  # per word of it, the folded forms that count (English: + lemmas)
    weight: float  # mean inverse sentence frequency of its words


@dataclass(frozen=True)
class CoverageQuery:
    """The question's word groups, ready to test against sentence word sets.

    A group weighs as its most common alternative and counts when the sentence
    holds any of them. Words the corpus never uses weigh the most, so a question
    about something the articles do not discuss scores low everywhere, whatever
    common words it shares with them. (Crediting only the rarest alternative
    lost 3 of 19 English questions on the gold dev split.)
    """

    groups: tuple[tuple[float, tuple[Alternative, ...]], ...]

    @classmethod
    def of(cls, groups: list[Group], idf: dict[str, float], unseen_idf: float) -> "CoverageQuery":
        from .lexicon.english import lemmas

        prepared = []
        for group in groups:
            alternatives = []
            for term in group.alternatives:
                ws = term.words()
                if not ws:
                    continue
                options = tuple(frozenset(lemmas(w)) | {w} if term.language == "en" else frozenset((w,)) for w in ws)
                alternatives.append(Alternative(options, sum(idf.get(w, unseen_idf) for w in ws) / len(ws)))
            if alternatives:
                prepared.append((min(a.weight for a in alternatives), tuple(alternatives)))
        return cls(tuple(prepared))

    def share(self, sentence_words: set[str]) -> float:
        """Weighted share of the groups present in the sentence."""
        total = sum(w for w, _ in self.groups)
        if not total:
            return 0.0
        found = sum(weight for weight, alternatives in self.groups
                    if any(all(not options.isdisjoint(sentence_words) for options in a.options)
                           for a in alternatives))
        return found / total


def score_sentences(question: Question, query_vector: np.ndarray, hits: list[Hit],
                    retriever: Retriever, extra_rows: list[int], config: Config,
                    groups: list[Group]) -> list[Scored]:
    """Every candidate sentence scored, best first."""
    gen = retriever.generation
    rows: dict[int, float] = {}  # sentence row -> similarity of its best passage
    for hit in hits:
        c_row = retriever.chunk_row(hit.chunk.id)
        passage_sim = float(gen.chunk_vectors[c_row] @ query_vector)
        for r in retriever.chunk_sentences(c_row):
            rows[r] = max(rows.get(r, -1.0), passage_sim)
    for r in extra_rows:
        if r not in rows:
            c_row = retriever.chunk_row(gen.sentences[r].chunk_id)
            rows[r] = float(gen.chunk_vectors[c_row] @ query_vector)
    if not rows:
        return []
    order = list(rows)
    dense = gen.sentence_vectors[order] @ query_vector
    wanted = CoverageQuery.of(groups, retriever.idf, retriever.unseen_idf)
    scored = []
    for r, d in zip(order, dense):
        text = gen.sentences[r].text
        cov = wanted.share(retriever.words_of(r))
        typed = question.kind is None or highlight(text, question) is not None
        score = (config.weight_sentence * float(d) + config.weight_coverage * cov
                 + config.weight_passage * rows[r] + (config.weight_type if typed and question.kind else 0.0))
        scored.append(Scored(row=r, score=score, dense=float(d), coverage=cov, typed=typed, passage=rows[r]))
    scored.sort(key=lambda s: -s.score)
    return scored


def build_quote(scored: list[Scored], retriever: Retriever, question: Question, config: Config,
                best: Scored | None = None, learned: bool = True) -> Quote:
    """The ``best`` sentence (default: the first), joined with an adjacent one when the answer spans both.

    ``learned``: the scores are the learned scorer's probabilities (else the hand-made score).
    """
    gen = retriever.generation
    best = best or scored[0]
    margin = config.neighbour_margin if learned else config.neighbour_margin_hand
    s = gen.sentences[best.row]
    start, end = s.start, s.end
    by_row = {x.row: x for x in scored}
    for neighbour in (best.row - 1, best.row + 1):
        other = by_row.get(neighbour)
        # Join a neighbour that scores almost as well, or one that holds the
        # asked-for date/number/name the best sentence lacks.
        if other is None or not (other.score >= best.score - margin
                                 or (other.typed and not best.typed)):
            continue
        n = gen.sentences[neighbour]
        if n.source == s.source and "\n" not in gen.articles[s.source].text[min(end, n.end):max(start, n.start)]:
            start, end = min(start, n.start), max(end, n.end)
    article = gen.articles[s.source]
    text = article.text[start:end]
    span = highlight(text, question)
    return Quote(
        source=article.source, title=article.title, date=article.date, text=text, url=article.url,
        start=start, end=end, score=best.score,
        highlight_start=None if span is None else start + span[0],
        highlight_end=None if span is None else start + span[1],
    )
