"""The app in a real headless Chromium: answers, highlights, source viewer, escaping, feedback.

Runs over a copy of the corpus plus an article full of HTML (``<script>``, ``<img onerror>``),
served in this process on a free 127.0.0.1 port. Every wait is on a condition of the page (a new
reply, its text, the viewer's marks) with a generous bound, never a fixed delay. Screenshots are
taken into the test's temporary folder, or into ``screenshots/`` with ``SCREENSHOTS=1``
(``make screenshots``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from app_fixtures import XSS_IMG, XSS_QUESTION, XSS_SCRIPT, XSS_SOURCE, serve, xss_corpus
from index import Config, build, load

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not shutil.which(CHROMIUM):
    pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium", allow_module_level=True)

pytestmark = pytest.mark.browser
expect = sync_api.expect
ROOT = Path(__file__).resolve().parent.parent
# Read when the module is imported (make screenshots sets it).
SHOTS = ROOT / "screenshots" if os.environ.get("SCREENSHOTS") == "1" else None
WAIT_MS = 120_000  # an answer with the real model takes seconds; the bound only matters on failure
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
    pg.set_default_timeout(WAIT_MS)
    pg.goto(url)
    pg.locator("#question textarea").wait_for()
    yield pg
    assert pg.evaluate("() => window.__xss") is None  # nothing from the corpus or a question ran
    context.close()


@pytest.fixture
def shot(tmp_path):
    """Take a full-page screenshot named ``name``: into screenshots/ with SCREENSHOTS=1, else tmp_path."""
    folder = SHOTS or tmp_path
    folder.mkdir(exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take


def ask(page, question):
    """Type a question, press Enter, return the new answer bubble once the whole reply is shown.

    The reply's last update empties the question box: that is the sign that the
    viewer, the picker and the labels of the same update are in place too.
    """
    replies = page.locator("#chat .qa-answer:not(.qa-loading)")
    before = replies.count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(replies).to_have_count(before + 1, timeout=WAIT_MS)
    expect(box).to_have_value("", timeout=WAIT_MS)
    return replies.nth(before)


def marked(page, selector):
    return "".join(page.locator(selector).all_text_contents())


def expect_marked(page, selector, text):
    """Wait until the marks under ``selector`` read ``text`` together."""
    try:
        page.wait_for_function(
            "([sel, text]) => Array.from(document.querySelectorAll(sel), e => e.textContent).join('') === text",
            arg=[selector, text], timeout=WAIT_MS)
    except sync_api.TimeoutError:
        assert marked(page, selector) == text  # shows what is there instead
        raise


def wait_for_lines(path: Path, n: int) -> list[str]:
    """The lines of ``path`` once it has ``n`` of them (written by the server's thread)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        if len(lines) >= n or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)  # polling a file the browser cannot see; bounded by the deadline


def test_vietnamese_answer_citation_highlight_and_source(page, xss_engine, shot):
    question = "Việt Nam có bao nhiêu người sử dụng internet?"
    expected = __import__("index").answer(xss_engine, question).to_dict()["citations"][0]
    text = xss_engine.generation.articles[expected["source"]].text

    bubble = ask(page, question)
    expect(bubble.locator("blockquote.qa-quote").first).to_be_visible(timeout=WAIT_MS)
    assert expected["quote"] in bubble.locator("blockquote.qa-quote").first.text_content()
    cite = bubble.locator(".qa-cite").first.text_content()
    assert "[1]" in cite and expected["source"] in cite and expected["title"] in cite
    span = bubble.locator("mark.qa-span")
    expect(span).to_be_visible(timeout=WAIT_MS)
    hl = expected["highlight"]
    assert span.text_content() == text[hl["start"]:hl["end"]]
    expect(page.locator("#send")).to_have_text("Gửi", timeout=WAIT_MS)

    # The source viewer opened on [1]: the whole quote marked at its offsets, answer span inside.
    expect(page.locator("#viewer .qa-hit").first).to_be_visible(timeout=WAIT_MS)
    expect_marked(page, "#viewer p.qa-para mark.qa-quote-span", text[expected["start"]:expected["end"]])
    expect_marked(page, "#viewer p.qa-para mark.qa-span", text[hl["start"]:hl["end"]])
    shot(page, "01-vietnamese-answer")


def test_english_and_unaccented_questions_switch_ui_language(page, shot):
    bubble = ask(page, "Who led the Vietnamese delegation at Singapore International Cyber Week 2022?")
    assert bubble.get_attribute("lang") == "en"
    expect(page.locator("#send")).to_have_text("Send", timeout=WAIT_MS)
    shot(page, "02-english-question")
    bubble = ask(page, "so nguoi dung internet o viet nam dau nam 2024")
    assert bubble.get_attribute("lang") == "vi"
    assert "78,44 triệu" in bubble.locator("blockquote.qa-quote").first.text_content()
    expect(page.locator("#send")).to_have_text("Gửi", timeout=WAIT_MS)
    picker = page.locator("#picker input")
    expect(picker).to_have_value(re.compile(r"^#2 \[1\] "), timeout=WAIT_MS)

    # Clicking the first answer re-opens its source in the viewer.
    page.locator("#chat .qa-answer").first.click()
    expect(picker).to_have_value(re.compile(r"^#1 \[1\] "), timeout=WAIT_MS)


def test_manual_language_switch(page):
    page.locator("#lang").get_by_text("English", exact=True).click()
    expect(page.locator("#send")).to_have_text("Send", timeout=WAIT_MS)
    bubble = ask(page, "Việt Nam có bao nhiêu người sử dụng internet?")
    assert bubble.get_attribute("lang") == "en"
    assert bubble.locator(".qa-msg").text_content().startswith("Quoted verbatim")


def test_abstains_with_related_passages(page, shot):
    bubble = ask(page, "How do I bake sourdough bread at home?")
    assert "qa-abstain" in bubble.get_attribute("class")
    assert "could not find" in bubble.locator(".qa-msg").text_content()
    assert "Related, but not an answer" in bubble.text_content()
    assert bubble.locator(".qa-related-item").count() >= 1
    expect(page.locator("#viewer p.qa-para mark.qa-passage").first).to_be_visible(timeout=WAIT_MS)
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


def test_xss_article_is_shown_literally(page, xss_engine, shot):
    bubble = ask(page, XSS_QUESTION)
    citation = __import__("index").answer(xss_engine, XSS_QUESTION).to_dict()["citations"][0]
    assert citation["source"] == XSS_SOURCE
    quote = bubble.locator("blockquote.qa-quote").first.text_content()
    assert XSS_SCRIPT in quote and XSS_IMG in quote
    assert "<b>đậm</b>" in bubble.locator(".qa-cite").first.text_content()
    expect_marked(page, "#viewer p.qa-para mark.qa-quote-span", citation["quote"])
    expect(page.locator("#viewer h3")).to_contain_text("<b>đậm</b>", timeout=WAIT_MS)
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#viewer b, #chat .qa-cite b + b").count() == 0
    shot(page, "04-html-in-article-shown-as-text")


def test_feedback_buttons_append_to_log(page, xss_engine):
    log = xss_engine.config.feedback_log
    ask(page, "Việt Nam có bao nhiêu người sử dụng internet?")
    page.locator("#helpful").click()
    expect(page.locator("#feedback-status")).to_contain_text("Cảm ơn", timeout=WAIT_MS)
    assert len(wait_for_lines(log, 1)) == 1
    page.locator("#not-helpful").click()
    rows = [json.loads(line) for line in wait_for_lines(log, 2)]
    assert [r["verdict"] for r in rows] == ["helpful", "not_helpful"]
    assert rows[0]["question"] == "Việt Nam có bao nhiêu người sử dụng internet?"
    assert rows[0]["citations"] and rows[0]["answer"]


def test_corpus_accordion(page, xss_engine, shot):
    page.locator("#corpus").get_by_text("Corpus and index").click()
    table = page.locator(".qa-corpus table")
    table.wait_for(timeout=WAIT_MS)
    for source in xss_engine.generation.articles:
        assert source in table.text_content()
    info = page.locator(".qa-corpus").text_content()
    assert xss_engine.generation.manifest["model_id"] in info
    shot(page, "05-corpus-and-index")


def test_follow_up_quotes_the_person_named_before_and_clear_starts_over(page, shot):
    first = ask(page, "Ai là Bộ trưởng phụ trách an ninh mạng của Singapore?")
    expect(first.locator(".qa-quote").first).to_contain_text("Josephine Teo")
    follow = ask(page, "Bà ấy đã phát biểu gì tại phiên khai mạc?")
    expect(follow.locator(".qa-context")).to_contain_text(
        "Tiếp nối câu hỏi: “Ai là Bộ trưởng phụ trách an ninh mạng của Singapore?”")
    expect(follow.locator(".qa-quote").first).to_contain_text("Josephine Teo")
    shot(page, "follow-up")
    page.locator("#clear").click()
    expect(page.locator("#chat .qa-answer")).to_have_count(0)
    fresh = ask(page, "Bà ấy đã phát biểu gì tại phiên khai mạc?")
    expect(fresh.locator(".qa-context")).to_have_count(0)  # a new conversation: no history


def test_upload_a_page_then_ask_about_it(browser, xss_engine, tmp_path, shot):
    """A page uploaded through the page's file control is indexed and answered, cited with its address."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(xss_engine.config.corpus_dir, corpus)
    shutil.copytree(xss_engine.config.index_dir, index)
    config = xss_engine.config.with_(corpus_dir=corpus, index_dir=index, feedback_log=tmp_path / "feedback.jsonl")
    page_url = "https://tin.example.vn/kinh-te/zebrafin-da-nang-345.html"
    article = tmp_path / "upload" / "zebrafin.html"
    article.parent.mkdir()
    article.write_text(
        f'<html lang="vi"><head><meta charset="utf-8"><title>Zebrafin mở văn phòng tại Đà Nẵng</title>'
        f'<link rel="canonical" href="{page_url}"></head><body><nav><a href="/">Trang chủ</a></nav><article>'
        "<h1>Zebrafin mở văn phòng tại Đà Nẵng</h1>"
        "<p>Ngày 3/2/2025, công ty phần mềm Zebrafin khai trương văn phòng mới tại Đà Nẵng.</p>"
        "<p>Công ty Zebrafin có 345 nhân viên tại Đà Nẵng, theo giám đốc điều hành của công ty.</p>"
        "<p>Văn phòng mới sẽ phục vụ khách hàng ở các tỉnh miền Trung trong năm tới.</p>"
        "</article></body></html>", encoding="utf-8")
    with serve(load(config, model=xss_engine.model), config) as base:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
        pg = context.new_page()
        pg.set_default_timeout(WAIT_MS)
        pg.goto(base)
        pg.locator("#upload input[type=file]").set_input_files(str(article))
        report = pg.locator("#chat .qa-upload")
        expect(report).to_contain_text("Đã thêm 1 tệp vào kho bài viết", timeout=WAIT_MS)
        expect(report.locator("li")).to_contain_text("zebrafin.html: đã thêm · 1 bài viết")
        shot(pg, "06-upload-report")

        bubble = ask(pg, "Công ty Zebrafin có bao nhiêu nhân viên tại Đà Nẵng?")
        expect(bubble.locator("blockquote.qa-quote").first).to_contain_text("345 nhân viên", timeout=WAIT_MS)
        assert "zebrafin.html" in bubble.locator(".qa-cite").first.text_content()
        link = bubble.locator(".qa-cite a")
        assert link.get_attribute("href").startswith(page_url + "#:~:text=")
        pg.locator("#corpus").get_by_text("Corpus and index").click()
        expect(pg.locator(".qa-corpus table")).to_contain_text("zebrafin.html", timeout=WAIT_MS)
        shot(pg, "07-upload-answered")
        context.close()


def test_low_confidence_answer_shows_the_others_collapsed(browser, xss_engine, shot):
    from dataclasses import replace

    from index import answer

    question = "Việt Nam có bao nhiêu người sử dụng internet?"
    best = answer(xss_engine, question).best_score
    unsure = replace(xss_engine, config=xss_engine.config.with_(answer_threshold=min(1.0, best + 0.01),
                                                                   low_confidence_ratio=0.1))
    with serve(unsure) as base:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(base)
        page.locator("#question textarea").wait_for()
        reply = ask(page, question)
        expect(reply).to_have_class(re.compile(r"\bqa-low\b"))
        expect(reply.locator(".qa-msg")).to_contain_text("Độ tin cậy thấp")
        others = reply.locator("details.qa-others")
        expect(others.locator("summary")).to_contain_text("Các đoạn khác có thể trả lời")
        expect(others.locator("blockquote").first).to_be_hidden()  # collapsed until opened
        others.locator("summary").click()
        expect(others.locator("blockquote").first).to_be_visible()
        expect(reply.locator(".qa-quote").first).to_contain_text("78,44 triệu")
        shot(page, "low-confidence")
        context.close()
