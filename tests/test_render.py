"""The chat's HTML, rendered from Answer JSON of the fake-embedder engine (no model, no server)."""
from __future__ import annotations

import app
from index import answer

INTERNET = "Việt Nam có bao nhiêu người sử dụng internet?"


def test_mark_up_escapes_every_piece():
    text = 'a<b>"c"</b> & <img src=x onerror="x()">'
    out = app.mark_up(text, 100, [(102, 104, "qa-span")])
    assert "<b>" not in out and "<img" not in out
    assert out.startswith("a&lt;") and '<mark class="qa-span">b&gt;</mark>' in out
    assert app.mark_up("abc", 0, []) == "abc"


def test_answer_bubble_quotes_and_cites(fake_engine):
    d = answer(fake_engine, INTERNET).to_dict()
    html = app.render_answer(d, "vi", fake_engine.generation.articles, 2000)
    cite = d["citations"][0]
    assert '<blockquote class="qa-quote" data-n="1">' in html
    assert f"{cite['start']}–{cite['end']}" in html and cite["source"] in html
    assert '<mark class="qa-span">78,44 triệu' in html


def test_abstained_bubble_offers_related_passages(fake_engine):
    d = answer(fake_engine, "How do I bake sourdough bread at home?").to_dict()
    html = app.render_answer(d, "en", fake_engine.generation.articles, 2000)
    assert "qa-abstain" in html and "Related, but not an answer" in html


def test_rejected_question_message_in_forced_language(fake_engine):
    d = answer(fake_engine, "").to_dict()
    assert "Vui lòng nhập câu hỏi." in app.render_answer(d, "vi", fake_engine.generation.articles, 2000)


def test_source_view_marks_exact_offsets(fake_engine):
    articles = fake_engine.generation.articles
    source, article = next(iter(articles.items()))
    start, end = 10, 40
    out = app.render_source(articles, source, [(start, end, "qa-quote-span")], "en", expected=article.text[start:end])
    import re

    body = out.split('qa-viewer-body', 1)[1]
    marked = "".join(re.findall(r'<mark class="qa-quote-span">(.*?)</mark>', body, flags=re.S))
    assert marked == app.esc(article.text[start:end]) and "qa-hit" in out
    stale = app.render_source(articles, source, [(start, end, "qa-quote-span")], "en", expected="not the text")
    assert "no longer matches" in stale and "<mark" not in stale.split("</div>", 1)[1]


def test_unavailable_answer_is_a_message_not_an_error_page():
    d = app.unavailable("x" * 500)
    assert d["abstained"] and d["error"] == "index_unavailable" and len(d["question"]) == 200
    assert "could not be loaded" in app.render_answer(d, "en", {}, 2000)
