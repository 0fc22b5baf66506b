"""The whole answering pipeline on the project corpus with the fake embedder: no model, seconds."""
from __future__ import annotations

import json
import shutil

import pytest

from checks import assert_verbatim
from fakes import GatedModel, HashEmbedder
from index import Config, LiveEngine, answer, build, load
from index.query import KeywordQuery
from index.retrieve import flat_index, rrf, search

INTERNET = "Việt Nam có bao nhiêu người sử dụng internet?"
INTERNET_SOURCE = "004_11babb57b19a238d.txt"


def test_answer_quotes_verbatim_with_citation_and_highlight(fake_engine):
    d = answer(fake_engine, INTERNET).to_dict()
    assert not d["abstained"] and d["language"] == "vi"
    cite = d["citations"][0]
    assert cite["source"] == INTERNET_SOURCE and cite["date"] == "2024-12-09"
    text = fake_engine.generation.articles[INTERNET_SOURCE].text
    assert text[cite["highlight"]["start"]:cite["highlight"]["end"]].startswith("78,44 triệu")
    assert_verbatim(fake_engine.generation.articles, d)
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d


def test_off_topic_question_abstains_in_its_language(fake_engine):
    d = answer(fake_engine, "How do I bake sourdough bread at home?").to_dict()
    assert d["abstained"] and d["citations"] == [] and d["language"] == "en"
    assert d["message"] == "I could not find this in the articles."


TYPED_ARTICLES = {
    "khai_mac.txt": "Hội thảo Zebrafin khai mạc\n\nLễ khai mạc hội thảo Zebrafin có rất đông người dự tại Đà Nẵng.\n\n"
                    "Các diễn giả bàn về an ninh mạng cho doanh nghiệp nhỏ.",
    "tuyen_dung.txt": "Zebrafin tuyển dụng\n\nCông ty Zebrafin tuyển 40 kỹ sư an ninh mạng tại Huế.",
}


def test_typed_question_without_such_span_abstains_unless_configured(tmp_path, fake_model):
    """A "how many" question whose best quote holds no number asks for a detail the articles do not state.

    The opening ceremony's article gives no head count (and no digit anywhere), so the strict
    default abstains where the loose setting quotes it; the score threshold is off, so only the
    typed-answer rule decides. The recruiting article states its count, and both settings answer.
    """
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in TYPED_ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    strict = Config.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", scorer="hand",
                             abstain_threshold=-1.0, require_typed_answer=True)
    loose = strict.with_(require_typed_answer=False)
    build(strict, progress=False, log=lambda m: None, model=fake_model)
    engine = load(strict, model=fake_model)

    head_count = "Bao nhiêu người dự lễ khai mạc hội thảo Zebrafin?"
    assert answer(engine, head_count, config=strict).abstained
    quoted = answer(engine, head_count, config=loose)
    assert not quoted.abstained and quoted.quotes[0].source == "khai_mac.txt", quoted.to_dict()
    assert "rất đông người dự" in quoted.quotes[0].text and quoted.quotes[0].highlight_start is None

    stated = answer(engine, "Zebrafin tuyển bao nhiêu kỹ sư?", config=strict).to_dict()
    assert not stated["abstained"] and stated["citations"][0]["source"] == "tuyen_dung.txt", stated
    highlight = stated["citations"][0]["highlight"]
    assert engine.generation.articles["tuyen_dung.txt"].text[highlight["start"]:highlight["end"]] == "40 kỹ sư"


def test_bad_input_is_rejected_before_retrieval(fake_engine):
    d = answer(fake_engine, "   ").to_dict()
    assert d["error"] == "empty" and d["abstained"] and d["passages"] == []


def test_retrieval_modes_return_k_passages(fake_engine):
    vector = fake_engine.embed_query(INTERNET)
    for mode, fusion in (("hybrid", "rrf"), ("hybrid", "zscore"), ("dense", "rrf"), ("keyword", "rrf")):
        config = fake_engine.config.with_(retrieval=mode, fusion=fusion)
        hits = fake_engine.retriever.passages(KeywordQuery.plain(INTERNET), vector, config, k=3)
        assert 1 <= len(hits) <= 3 and hits[0].chunk.source == INTERNET_SOURCE, mode
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_rrf_sums_reciprocal_ranks():
    fused = rrf([[1, 2, 3], [3, 1]], k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)
    assert max(fused, key=fused.get) == 1


def test_search_drops_faiss_padding(fake_model):
    index = flat_index(fake_model.encode(["một", "hai"]))
    hits = search(index, fake_model.encode("một"), 10)  # more than ntotal: FAISS pads with -1
    assert [r for r, _ in hits] == [0, 1]


def test_incremental_build_reuses_unchanged_articles(tmp_path, corpus_dir, fake_model):
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus)
    config = Config.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", scorer="hand")
    first = build(config, progress=False, log=lambda m: None, model=fake_model)
    assert first.generation and first.embedded == first.chunks + first.sentences
    assert build(config, progress=False, log=lambda m: None, model=fake_model).generation is None
    (corpus / "900_new.txt").write_text("Bài mới\n\nNgày 01/02/2025, Zebrafin ra mắt.\n", encoding="utf-8")
    second = build(config, progress=False, log=lambda m: None, model=fake_model)
    assert len(second.reused_articles) == 5 and second.embedded < first.embedded
    assert "900_new.txt" in load(config, model=fake_model).generation.articles


def test_changed_chunk_settings_rebuild_everything(tmp_path, corpus_dir, fake_model):
    config = Config.from_env(corpus_dir=corpus_dir, index_dir=tmp_path / "index", scorer="hand")
    build(config, progress=False, log=lambda m: None, model=fake_model)
    other = config.with_(chunk_separators=("\n", " ", ""))
    result = build(other, progress=False, log=lambda m: None, model=fake_model)
    assert result.generation and not result.reused_articles


def test_live_engine_loads_in_the_background(tmp_path, corpus_dir):
    model = GatedModel()
    config = Config.from_env(corpus_dir=corpus_dir, index_dir=tmp_path / "index", scorer="hand")
    live = LiveEngine.start(config, model=model, log=lambda m: None)
    assert not live.ready
    with pytest.raises(TimeoutError):
        live.get(timeout=0.2)
    model.gate.set()
    engine = live.get(timeout=30)
    assert live.ready and not answer(engine, INTERNET).abstained


def test_live_engine_reports_a_failed_load(tmp_path):
    live = LiveEngine.start(Config.from_env(corpus_dir=tmp_path / "missing", index_dir=tmp_path / "index", scorer="hand"),
                            model=HashEmbedder(), log=lambda m: None)
    with pytest.raises(FileNotFoundError, match="corpus folder not found"):
        live.wait(30)
    assert not live.ready


ENGLISH_ARTICLE = """Zebrafin and the Ministry sign a cybersecurity agreement

On 5 March 2025, the software company Zebrafin signed a cooperation agreement on cybersecurity with the
Ministry of Information in Hanoi.

The agreement covers incident response training for 300 engineers over two years.
"""


def test_mixed_corpus_answers_an_english_question_from_the_english_article(tmp_path, corpus_dir, fake_model):
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus)
    (corpus / "900_zebrafin_en.txt").write_text(ENGLISH_ARTICLE, encoding="utf-8")
    config = Config.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", scorer="hand")
    build(config, progress=False, log=lambda m: None, model=fake_model)
    engine = load(config, model=fake_model)
    assert engine.generation.articles["900_zebrafin_en.txt"].language == "en"
    assert engine.generation.articles[INTERNET_SOURCE].language == "vi"
    d = answer(engine, "How many engineers does the incident response training cover?").to_dict()
    assert not d["abstained"] and d["citations"][0]["source"] == "900_zebrafin_en.txt", d
    assert "300 engineers" in d["answer"] and d["message"] == "Quoted verbatim from the article [1]:"
    assert_verbatim(engine.generation.articles, d)
    # Vietnamese questions still find Vietnamese quotes in the mixed corpus.
    vi = answer(engine, INTERNET).to_dict()
    assert vi["citations"][0]["source"] == INTERNET_SOURCE
