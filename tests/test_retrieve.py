"""Retrieval (index/retrieve.py) on a tiny corpus with the fake embedder: what fusion and the per-retriever
ranks mean, and the archive mode without corpus-wide sentence search (no model, seconds)."""
from __future__ import annotations

import numpy as np
import pytest

from index import Config, answer, build, load
from index.answer import candidates
from index.query import KeywordQuery
from index.question import parse
from index.retrieve import Retriever, keyword_peak, zscores

CITIES = ["Đà Lạt", "Huế", "Cần Thơ", "Vinh", "Hải Phòng", "Quy Nhơn", "Nha Trang", "Sơn La"]
# Eight meetings share the question's common words; one launch shares only its rare name. The
# embedder counts shared words alike, BM25 weighs the rare one: the two retrievers disagree.
ARTICLES = {f"hop_{i}.txt": f"Tin {city}\n\nChuyên gia an ninh mạng họp tại {city} để bàn về hợp tác khu vực."
            for i, city in enumerate(CITIES)}
ARTICLES["ra_mat.txt"] = ("Zebrafin ra mắt\n\nCông ty Zebrafin giới thiệu phần mềm tường lửa mới tại Đà Nẵng.\n\n"
                          "Phần mềm được bán cho các ngân hàng từ tháng sau.")
QUESTION = "an ninh mạng Zebrafin"


@pytest.fixture(scope="module")
def engine(tmp_path_factory, fake_model):
    root = tmp_path_factory.mktemp("retrieve")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    config = Config.from_env(corpus_dir=corpus, index_dir=root / "index", scorer="hand")
    build(config, progress=False, log=lambda m: None, model=fake_model)
    return load(config, model=fake_model)


def _search(engine, config: Config, k: int):
    vector = engine.embed_query(QUESTION)
    hits = engine.retriever.passages(KeywordQuery.plain(QUESTION), vector, config, k=k)
    return [engine.retriever.chunk_row(h.chunk.id) for h in hits], hits, vector


def test_the_corpus_makes_the_retrievers_disagree(engine):
    """The premise of the fusion tests: the dense best passage is not the keyword best."""
    n = len(engine.generation.chunks)
    dense_rows, _, _ = _search(engine, engine.config.with_(retrieval="dense"), n)
    keyword_rows, _, _ = _search(engine, engine.config.with_(retrieval="keyword"), n)
    launch = engine.retriever.chunk_row("ra_mat.txt#0")
    assert keyword_rows[0] == launch and dense_rows[0] != launch
    assert dense_rows.index(launch) >= 4  # outside the dense top 4 (the ranks test relies on it)


@pytest.mark.parametrize("fusion", ["zscore", "rrf"])
def test_ranks_are_the_passage_places_in_each_retriever_alone(engine, fusion):
    """``dense_rank`` / ``keyword_rank``: 1-based place in that retriever's own top ``n``, None outside it
    (``n`` = max(candidates, k): each retriever is asked for at least the passages kept)."""
    n = 4
    config = engine.config.with_(fusion=fusion, candidates=n, keyword_weight=10.0, keyword_peak=0.0)
    dense_rows, _, vector = _search(engine, config.with_(retrieval="dense"), n)
    keyword_rows, _, _ = _search(engine, config.with_(retrieval="keyword"), n)
    rows, hits, _ = _search(engine, config, n)
    assert len(hits) == n and set(rows) <= set(dense_rows) | set(keyword_rows)
    for row, hit in zip(rows, hits):
        assert hit.dense_rank == (dense_rows.index(row) + 1 if row in dense_rows else None), hit
        assert hit.keyword_rank == (keyword_rows.index(row) + 1 if row in keyword_rows else None), hit
    by_chunk = {h.chunk.id: h for h in hits}
    assert by_chunk["ra_mat.txt#0"].dense_rank is None and by_chunk["ra_mat.txt#0"].keyword_rank == 1
    # The places follow each retriever's own scores.
    cosines = engine.generation.chunk_vectors @ vector
    bm25 = engine.generation.chunk_keywords.scores(KeywordQuery.plain(QUESTION))
    assert np.all(np.diff(cosines[dense_rows]) <= 1e-6) and np.all(np.diff(bm25[keyword_rows]) <= 1e-6)
    assert cosines[dense_rows[-1]] >= np.delete(cosines, dense_rows).max() - 1e-6


def test_single_retriever_modes_leave_the_other_rank_empty(engine):
    n = len(engine.generation.chunks)
    _, dense, _ = _search(engine, engine.config.with_(retrieval="dense"), n)
    _, keyword, _ = _search(engine, engine.config.with_(retrieval="keyword"), n)
    assert [h.dense_rank for h in dense] == list(range(1, n + 1)) and {h.keyword_rank for h in dense} == {None}
    assert [h.keyword_rank for h in keyword] == list(range(1, len(keyword) + 1))
    assert {h.dense_rank for h in keyword} == {None}


def test_rrf_score_is_the_sum_of_reciprocal_ranks(engine):
    config = engine.config.with_(fusion="rrf", rrf_k=10, candidates=4)
    _, hits, _ = _search(engine, config, 4)
    assert any(None in (h.dense_rank, h.keyword_rank) for h in hits)  # one-sided hits too
    for hit in hits:
        expected = sum(1 / (10 + r) for r in (hit.dense_rank, hit.keyword_rank) if r is not None)
        assert hit.score == pytest.approx(expected), hit


@pytest.mark.parametrize("weight", [0.0, 0.3, 10.0])
def test_zscore_fusion_adds_the_weighted_keyword_side(engine, weight):
    """Over the passages either retriever found: z(cosine) + keyword_weight x z(BM25)."""
    config = engine.config.with_(fusion="zscore", keyword_weight=weight, candidates=4, keyword_peak=0.0)
    dense_rows, _, vector = _search(engine, config.with_(retrieval="dense"), 4)
    keyword_rows, _, _ = _search(engine, config.with_(retrieval="keyword"), 4)
    rows, hits, _ = _search(engine, config, 4)
    found = sorted(set(dense_rows) | set(keyword_rows))
    assert len(found) > len(rows)  # normalised over every passage found, not only over those kept
    dense = dict(zip(found, zscores(engine.generation.chunk_vectors[found] @ vector)))
    bm25 = engine.generation.chunk_keywords.scores(KeywordQuery.plain(QUESTION))
    keyword = dict(zip(found, zscores(bm25[found])))
    for row, hit in zip(rows, hits):
        assert hit.score == pytest.approx(dense[row] + weight * keyword[row], abs=1e-6), hit


def test_keyword_weight_moves_the_top_from_the_dense_to_the_keyword_best(engine):
    n = len(engine.generation.chunks)
    dense_rows, _, _ = _search(engine, engine.config.with_(retrieval="dense"), n)
    keyword_rows, _, _ = _search(engine, engine.config.with_(retrieval="keyword"), n)
    fixed = engine.config.with_(fusion="zscore", keyword_peak=0.0)
    no_keywords, _, _ = _search(engine, fixed.with_(keyword_weight=0.0), n)
    keywords_rule, _, _ = _search(engine, fixed.with_(keyword_weight=10.0), n)
    assert no_keywords[0] == dense_rows[0] and keywords_rule[0] == keyword_rows[0]


def test_keyword_peak_is_the_gap_between_the_two_best_in_deviations_of_the_best_n():
    scores = np.array([0.0, 5.0, 1.0, 1.0, 1.0])
    best = np.array([5.0, 1.0, 1.0, 1.0, 0.0])
    assert keyword_peak(scores) == pytest.approx(4.0 / best.std())
    assert keyword_peak(scores, n=2) == pytest.approx(4.0 / np.array([5.0, 1.0]).std())  # 2.0
    assert keyword_peak(np.zeros(6)) == 0.0 and keyword_peak(np.array([3.0])) == 0.0  # no match, one passage
    assert keyword_peak(np.array([2.0, 2.0, 0.0])) == 0.0  # a tie at the top is no peak


def test_a_peaked_question_gets_the_peaked_keyword_weight(engine):
    """The rare name matches one passage far above the rest: its keyword side is weighted
    ``keyword_weight_peaked``; below ``keyword_peak`` deviations, ``keyword_weight``; 0 switches it off."""
    bm25 = engine.generation.chunk_keywords.scores(KeywordQuery.plain(QUESTION))
    peak = keyword_peak(bm25)
    assert peak > 1.0
    config = engine.config.with_(fusion="zscore", candidates=4, keyword_weight=0.0, keyword_weight_peaked=10.0)
    keyword_rows, _, _ = _search(engine, config.with_(retrieval="keyword"), 4)
    dense_rows, _, _ = _search(engine, config.with_(retrieval="dense"), 4)
    peaked, _, _ = _search(engine, config.with_(keyword_peak=peak - 0.01), 4)
    flat, _, _ = _search(engine, config.with_(keyword_peak=peak + 0.01), 4)
    off, _, _ = _search(engine, config.with_(keyword_peak=0.0), 4)
    assert peaked[0] == keyword_rows[0] and flat[0] == dense_rows[0] and off[0] == dense_rows[0]


def _passage_rows(engine, hits) -> set[int]:
    return {r for h in hits for r in engine.retriever.chunk_sentences(engine.retriever.chunk_row(h.chunk.id))}


def test_archive_mode_scores_only_the_passages_sentences(engine, fake_model):
    """Above ``sentence_search_max`` sentences, no corpus-wide sentence search: the candidates, and so the
    quote, come from the retrieved passages only; below it, sentences from elsewhere join them."""
    sentences = len(engine.generation.sentences)
    config = engine.config.with_(k=1)
    assert Retriever(engine.generation, config.with_(sentence_search_max=sentences)).corpus_wide_sentences
    archive = load(config.with_(sentence_search_max=sentences - 1), model=fake_model)
    assert not archive.retriever.corpus_wide_sentences and archive.retriever.sentence_index is None
    q = parse("Công ty Zebrafin giới thiệu phần mềm gì?")
    assert archive.retriever.sentences(KeywordQuery.plain(q.text), archive.embed_query(q.text), 10) == ([], [])

    hits, scored = candidates(archive, q, config)
    assert scored and {s.row for s in scored} == _passage_rows(archive, hits)
    wide_hits, wide = candidates(engine, q, config)
    assert {s.row for s in wide} > _passage_rows(engine, wide_hits)

    d = answer(archive, q.text, config=config).to_dict()
    assert not d["abstained"], d
    cite, passage = d["citations"][0], d["passages"][0]
    assert cite["source"] == passage["source"] == "ra_mat.txt" and "tường lửa" in cite["quote"]
    assert passage["start"] <= cite["start"] and cite["end"] <= passage["end"]
