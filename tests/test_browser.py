"""The app in a real headless Chromium: answers, highlights, source viewer, escaping, feedback.

Runs over a copy of the corpus plus an article full of HTML (``<script>``, ``<img onerror>``),
served in this process on a free 127.0.0.1 port. Screenshots go to ``screenshots/``
(``make screenshots`` regenerates them).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from app_fixtures import XSS_IMG, XSS_QUESTION, XSS_SCRIPT, XSS_SOURCE, serve, xss_corpus
from index import Config, build, load

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not shutil.which(CHROMIUM):
    pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium", allow_module_level=True)

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]


@pytest.fixture(scope="module")
def xss_engine(built, corpus_dir, tmp_path_factory):
    corpus, index = xss_corpus(corpus_dir, built.index_dir, tmp_path_factory.mktemp("xss"))
    config = Config.from_env(corpus_dir=corpus, index_dir=index, feedback_log=index.parent / "feedback.jsonl")
    build(config, progress=False, log=lambda msg: None)
    return load(config)


@pytest.fixture(scope="module")
def url(xss_engine):
    with serve(xss_engine) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
    pg = context.new_page()
    pg.goto(url)
    pg.locator("#question textarea").wait_for()
    yield pg
    assert pg.evaluate("() => window.__xss") is None  # nothing from the corpus or a question ran
    context.close()


def shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def ask(page, question):
    """Type a question, press Enter, return the new answer bubble."""
    before = page.locator("#chat .qa-answer").count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    bubble = page.locator("#chat .qa-answer").nth(before)
    bubble.wait_for(timeout=60_000)
    page.wait_for_timeout(300)  # let the viewer update and any (unwanted) handler fire
    return bubble


def marked(page, selector):
    return "".join(page.locator(selector).all_text_contents())


def test_vietnamese_answer_citation_highlight_and_source(page, xss_engine):
    question = "Việt Nam có bao nhiêu người sử dụng internet?"
    expected = __import__("index").answer(xss_engine, question).to_dict()["citations"][0]
    text = xss_engine.generation.articles[expected["source"]].text

    bubble = ask(page, question)
    assert bubble.locator("blockquote.qa-quote").is_visible()
    assert expected["quote"] in bubble.locator("blockquote.qa-quote").text_content()
    cite = bubble.locator(".qa-cite").text_content()
    assert "[1]" in cite and expected["source"] in cite and expected["title"] in cite
    span = bubble.locator("mark.qa-span")
    assert span.is_visible()
    hl = expected["highlight"]
    assert span.text_content() == text[hl["start"]:hl["end"]]
    assert page.locator("#send").text_content().strip() == "Gửi"

    # The source viewer opened on [1]: the whole quote marked at its offsets, answer span inside.
    assert page.locator("#viewer .qa-hit").first.is_visible()
    assert marked(page, "#viewer p.qa-para mark.qa-quote-span") == text[expected["start"]:expected["end"]]
    assert marked(page, "#viewer p.qa-para mark.qa-span") == text[hl["start"]:hl["end"]]
    shot(page, "01-vietnamese-answer")


def test_english_and_unaccented_questions_switch_ui_language(page):
    bubble = ask(page, "Who led the Vietnamese delegation at Singapore International Cyber Week 2022?")
    assert bubble.get_attribute("lang") == "en"
    assert page.locator("#send").text_content().strip() == "Send"
    shot(page, "02-english-question")
    bubble = ask(page, "so nguoi dung internet o viet nam dau nam 2024")
    assert bubble.get_attribute("lang") == "vi"
    assert "78,44 triệu" in bubble.locator("blockquote.qa-quote").text_content()
    assert page.locator("#send").text_content().strip() == "Gửi"

    # Clicking the first answer re-opens its source in the viewer.
    page.locator("#chat .qa-answer").first.click()
    page.wait_for_timeout(800)
    assert "#1 [1]" in page.locator("#picker input").input_value()


def test_manual_language_switch(page):
    page.locator("#lang").get_by_text("English", exact=True).click()
    bubble = ask(page, "Việt Nam có bao nhiêu người sử dụng internet?")
    assert bubble.get_attribute("lang") == "en"
    assert bubble.locator(".qa-msg").text_content().startswith("Quoted verbatim")


def test_abstains_with_related_passages(page):
    bubble = ask(page, "How do I bake sourdough bread at home?")
    assert "qa-abstain" in bubble.get_attribute("class")
    assert "could not find" in bubble.locator(".qa-msg").text_content()
    assert "Related, but not an answer" in bubble.text_content()
    assert bubble.locator(".qa-related-item").count() >= 1
    assert page.locator("#viewer p.qa-para mark.qa-passage").first.is_visible()
    shot(page, "03-not-found")


def test_bad_input_shows_a_message(page):
    bubble = ask(page, "   ")
    assert "qa-error" in bubble.get_attribute("class")
    assert bubble.locator(".qa-msg").text_content() in ("Please type a question.", "Vui lòng nhập câu hỏi.")


def test_xss_question_is_shown_literally(page):
    payload = f'{XSS_IMG}{XSS_SCRIPT} internet?'
    ask(page, payload)
    assert page.locator("#chat .qa-question").last.text_content() == payload
    assert page.locator("#chat img[src='x']").count() == 0
    assert page.locator("#chat script").count() == 0


def test_xss_article_is_shown_literally(page, xss_engine):
    bubble = ask(page, XSS_QUESTION)
    citation = __import__("index").answer(xss_engine, XSS_QUESTION).to_dict()["citations"][0]
    assert citation["source"] == XSS_SOURCE
    quote = bubble.locator("blockquote.qa-quote").text_content()
    assert XSS_SCRIPT in quote and XSS_IMG in quote
    assert "<b>đậm</b>" in bubble.locator(".qa-cite").text_content()
    assert marked(page, "#viewer p.qa-para mark.qa-quote-span") == citation["quote"]
    assert "<b>đậm</b>" in page.locator("#viewer h3").text_content()
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#viewer b, #chat .qa-cite b + b").count() == 0
    shot(page, "04-html-in-article-shown-as-text")


def test_feedback_buttons_append_to_log(page, xss_engine):
    log = xss_engine.config.feedback_log
    ask(page, "Việt Nam có bao nhiêu người sử dụng internet?")
    page.locator("#helpful").click()
    page.locator("#feedback-status").get_by_text("Cảm ơn").wait_for()
    page.locator("#not-helpful").click()
    page.wait_for_function("() => document.querySelector('#feedback-status').textContent.includes('Cảm ơn')")
    for _ in range(50):
        if log.exists() and len(log.read_text(encoding="utf-8").splitlines()) == 2:
            break
        page.wait_for_timeout(100)
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [r["verdict"] for r in rows] == ["helpful", "not_helpful"]
    assert rows[0]["question"] == "Việt Nam có bao nhiêu người sử dụng internet?"
    assert rows[0]["citations"] and rows[0]["answer"]


def test_corpus_accordion(page, xss_engine):
    page.locator("#corpus").get_by_text("Corpus and index").click()
    table = page.locator(".qa-corpus table")
    table.wait_for()
    for source in xss_engine.generation.articles:
        assert source in table.text_content()
    info = page.locator(".qa-corpus").text_content()
    assert xss_engine.generation.manifest["model_id"] in info
    shot(page, "05-corpus-and-index")
