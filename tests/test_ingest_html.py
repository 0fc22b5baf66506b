"""Saved news pages (.html/.htm): main text, title, date, author and address; bad pages reported; links back.

The fixture pages (tests/fixtures/ingest) are hand-written with navigation, related links,
comments and a cookie banner around the article: only the article may come out.
"""
from __future__ import annotations

import shutil
import sqlite3
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

from checks import assert_verbatim
from index import Config, answer, build, load
from index.cli import _render
from index.corpus import load_corpus
from index.ingest import html as ingest_html
from index.tables import Tables, write_tables
from index.types import Article, Quote, text_fragment_url
from ingest_fixtures import FIXTURES, fixture_corpus

ROOT = Path(__file__).resolve().parent.parent

VI_TEXT = """Đà Nẵng khai trương tuyến xe buýt điện đầu tiên

Sáng 15/3, thành phố Đà Nẵng chính thức đưa vào hoạt động tuyến xe buýt điện đầu tiên nối sân bay quốc tế với bãi biển Mỹ Khê.

Tuyến xe dài 18 km, gồm 26 điểm dừng và được khai thác bởi 12 xe buýt điện có sức chứa 60 hành khách mỗi xe.

Theo Sở Giao thông vận tải thành phố, giá vé một lượt là 8.000 đồng; học sinh và người cao tuổi được miễn phí trong năm đầu tiên.

Ông Nguyễn Văn Hùng, Giám đốc Sở, cho biết thành phố dự kiến mở thêm bốn tuyến xe buýt điện trước cuối năm 2025."""  # noqa: E501
VI_URL = "https://thoisumientrung.example.vn/giao-thong/da-nang-xe-buyt-dien-12345.html"
EN_TEXT = """Offshore wind farm powers 200,000 homes

The Seagull Bank offshore wind farm began supplying electricity to the grid on Thursday, six months ahead of schedule.

Its 45 turbines, each 220 metres tall, can generate up to 600 megawatts, enough to power around 200,000 homes.

Cost and jobs

The project cost 1.8 billion pounds and created 350 permanent jobs in the port town of Eastwick.

Operators said maintenance crews would be based in a new harbour facility opening next spring."""
EN_URL = "https://coastalherald.example.com/energy/2023/11/offshore-wind-farm-opens"
# What surrounds the articles in the fixture pages: none of it is article text.
FURNITURE = ["cookie", "Đồng ý", "Accept all", "Trang chủ", "Giao thông\n", "Home", "Opinion", "Tin liên quan",
             "Hà Nội kẹt xe", "Cầu Rồng", "More from Energy", "Solar tariffs", "Bình luận", "Minh Tuấn",
             "Hội An", "greenfan88", "Who pays", "Giấy phép", "Copyright", "Terms", "Trần Thị Mai", "By James"]


@pytest.mark.parametrize("name, text, title, date, url, author, language", [
    ("vi_article.html", VI_TEXT, "Đà Nẵng khai trương tuyến xe buýt điện đầu tiên", "2024-03-15", VI_URL,
     "Trần Thị Mai", "vi"),
    ("en_article.html", EN_TEXT, "Offshore wind farm powers 200,000 homes", "2023-11-02", EN_URL,
     "James Whitfield", "en"),
])
def test_a_page_gives_its_article_and_nothing_around_it(tmp_path, name, text, title, date, url, author, language):
    [article], report = load_corpus(fixture_corpus(tmp_path, name))
    assert (article.source, article.title, article.date, article.url, article.author, article.language) == \
        (name, title, date, url, author, language)
    assert article.text == text
    for junk in FURNITURE:
        assert junk not in article.text, junk
    assert not report.skipped and not report.removed and not report.converted


def test_a_decomposed_page_is_read_in_nfc(tmp_path):
    """Pages saved with combining marks (NFD) give the same article, its title not repeated."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    page = (FIXTURES / "vi_article.html").read_text(encoding="utf-8")
    (corpus / "nfd.html").write_text(unicodedata.normalize("NFD", page), encoding="utf-8")
    [article], _ = load_corpus(corpus)
    assert article.text == VI_TEXT and article.title == "Đà Nẵng khai trương tuyến xe buýt điện đầu tiên"
    assert article.author == "Trần Thị Mai"


def test_a_parser_failure_on_one_page_is_reported_and_the_rest_read(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("parser stack exhausted")

    corpus = fixture_corpus(tmp_path, "vi_article.html")
    (corpus / "plain.txt").write_text("Tiêu đề\n\nMột bài viết bình thường.", encoding="utf-8")
    monkeypatch.setattr(ingest_html.trafilatura, "bare_extraction", fail)
    articles, report = load_corpus(corpus)
    assert [a.source for a in articles] == ["plain.txt"]
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("vi_article.html", "could not be read (RuntimeError: parser stack exhausted)")]


def _page(head: str, body: str = "") -> str:
    paragraph = "Ngày 3/4/2021, hội nghị về chuyển đổi số diễn ra tại Hà Nội với nhiều doanh nghiệp tham gia. "
    return (f"<html><head><title>Hội nghị chuyển đổi số</title>{head}</head><body>{body}"
            f"<article><h1>Hội nghị chuyển đổi số</h1><p>{paragraph * 3}</p></article></body></html>")


@pytest.mark.parametrize("head, body, url", [
    ('<link rel="Canonical" href="https://a.example.vn/1">', "", "https://a.example.vn/1"),
    ('<meta name="og:url" content=" https://a.example.vn/2 ">', "", "https://a.example.vn/2"),
    ('<link rel="canonical" href="/relative/3"><meta property="og:url" content="https://a.example.vn/3">', "",
     "https://a.example.vn/3"),
    ("", '<link rel="canonical" href="https://a.example.vn/4">', "https://a.example.vn/4"),
    ('<link rel="canonical" href="javascript:alert(1)">', "", None),
    ('<meta property="og:url" content="ftp://a.example.vn/6">', "", None),
    ("", "", None),
])
def test_the_pages_address_comes_from_its_metadata_and_is_a_web_link(tmp_path, head, body, url):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "page.html").write_text(_page(head, body), encoding="utf-8")
    [article], _ = load_corpus(corpus)
    assert article.url == url
    assert article.date == "2021-04-03"  # no date metadata: the first date the text states


def test_bad_pages_are_reported_and_the_good_ones_kept(tmp_path, monkeypatch):
    corpus = fixture_corpus(tmp_path, "vi_article.html", "malformed.html", "boilerplate_only.html")
    (corpus / "photo.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40)
    (corpus / "controls.htm").write_bytes(b"<html>\x01\x02\x03\x04\x05\x06\x07\x08" * 400)
    (corpus / "empty.html").write_bytes(b"  \n")
    with open(corpus / "huge.html", "wb") as f:  # 50 MB on paper: only its size is ever looked at
        f.write(b"<html><body><p>")
        f.truncate(50_000_000)
    (corpus / "pages.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 30)
    (corpus / "vi_article.html.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 30)
    articles, report = load_corpus(corpus)
    skipped = {s.source: s.reason for s in report.skipped}
    assert sorted(a.source for a in articles) == ["malformed.html", "vi_article.html"]
    assert skipped == {
        "boilerplate_only.html": "no main text: the page holds only navigation, links or other boilerplate",
        "photo.html": "binary file (NUL bytes)",
        "controls.htm": "binary file (control characters)",
        "empty.html": "empty file",
        "huge.html": "too large (50,000,000 bytes > 5,000,000; QA_INGEST_MAX_BYTES sets the limit)",
        "pages.zip": "archive (.zip): never unpacked; extract its articles into the corpus folder",
        "vi_article.html.gz": "archive (.gz): never unpacked; extract its articles into the corpus folder",
    }
    # The size limit is a setting.
    monkeypatch.setenv("QA_INGEST_MAX_BYTES", "1000")
    _, report = load_corpus(corpus)
    size = (corpus / "vi_article.html").stat().st_size
    assert {s.source: s.reason for s in report.skipped}["vi_article.html"] == \
        f"too large ({size:,} bytes > 1,000; QA_INGEST_MAX_BYTES sets the limit)"


def test_malformed_markup_still_gives_the_whole_article(tmp_path):
    [article], _ = load_corpus(fixture_corpus(tmp_path, "malformed.html"))
    assert article.title == "Mưa lớn gây ngập ở Huế" and article.date == "2025-01-02" and article.url is None
    assert article.text.split("\n\n") == [
        "Mưa lớn gây ngập ở Huế",
        "Ngày 2/1/2025, mưa lớn gây ngập nhiều tuyến phố ở thành phố Huế, hàng trăm hộ dân phải sơ tán khẩn cấp.",
        "Chính quyền đã huy động 300 cán bộ hỗ trợ người dân di chuyển đồ đạc lên nơi cao ráo.",
        "Dự báo mưa còn kéo dài đến cuối tuần, mực nước sông Hương có thể vượt báo động 3.",
        "Ngành đường sắt tạm dừng chạy tàu qua đoạn bị ngập từ chiều cùng ngày.",
    ]


@pytest.mark.parametrize("quote, fragment", [
    ("giá vé một lượt là 8.000 đồng", "gi%C3%A1%20v%C3%A9%20m%E1%BB%99t%20l%C6%B0%E1%BB%A3t%20l%C3%A0%208.000%20"
                                      "%C4%91%E1%BB%93ng"),
    ("Alpha-beta, gamma & delta", "Alpha%2Dbeta%2C%20gamma%20%26%20delta"),
    ("one two three four five six seven eight nine ten", "one%20two%20three%20four,seven%20eight%20nine%20ten"),
])
def test_text_fragment_encodes_the_quote_as_the_spec_says(quote, fragment):
    assert text_fragment_url("https://a.example.vn/p?id=1#top", quote) == \
        f"https://a.example.vn/p?id=1#:~:text={fragment}"


def test_text_fragment_of_a_long_quote_names_its_first_and_last_words():
    link = text_fragment_url(VI_URL, VI_TEXT.split("\n\n")[1])
    start, end = link.split("#:~:text=")[1].split(",")
    assert (unquote(start), unquote(end)) == ("Sáng 15/3, thành phố", "bãi biển Mỹ Khê.")


def test_an_index_written_before_articles_had_addresses_still_loads(tmp_path):
    article = Article(source="a.txt", title="T", date=None, text="Một câu.", checksum="c", url="https://x.vn/a")
    path = tmp_path / "tables.sqlite"
    write_tables(path, [article], [], [], lambda s: set())
    db = sqlite3.connect(path)
    db.executescript("ALTER TABLE articles DROP COLUMN url; ALTER TABLE articles DROP COLUMN author;")
    db.close()
    tables = Tables(path)
    try:
        assert tables.articles["a.txt"].url is None and tables.articles["a.txt"].text == "Một câu."
        assert tables.articles.first(1)[0].author is None
    finally:
        tables.close()


def test_quote_link_is_the_address_with_the_quote_fragment():
    quote = Quote(source="p.html", title="T", date=None, text="giá vé một lượt", start=0, end=15, score=1.0,
                  url=VI_URL)
    assert quote.link == VI_URL + "#:~:text=gi%C3%A1%20v%C3%A9%20m%E1%BB%99t%20l%C6%B0%E1%BB%A3t"
    assert Quote(source="a.txt", title="T", date=None, text="x", start=0, end=1, score=1.0).link is None


def test_an_index_answers_from_a_page_with_its_address_in_the_citation(tmp_path, fake_model):
    corpus = fixture_corpus(tmp_path, "vi_article.html", "en_article.html")
    shutil.copy(ROOT / "corpus" / "004_11babb57b19a238d.txt", corpus)
    # The fake embedder's scores are not calibrated: every question is answered.
    config = Config.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", scorer="hand", abstain_threshold=-1.0)
    build(config, progress=False, log=lambda msg: None, model=fake_model)
    engine = load(config, model=fake_model)
    assert engine.generation.articles["vi_article.html"].url == VI_URL
    assert engine.generation.articles["004_11babb57b19a238d.txt"].url is None

    ans = answer(engine, "Giá vé một lượt xe buýt điện ở Đà Nẵng là bao nhiêu?")
    d = ans.to_dict()
    assert not d["abstained"], d
    cite = d["citations"][0]
    assert cite["source"] == "vi_article.html" and "8.000 đồng" in cite["quote"]
    assert_verbatim(engine.generation.articles, d)
    assert cite["url"] == text_fragment_url(VI_URL, cite["quote"]) and cite["url"].startswith(VI_URL + "#:~:text=")
    assert f"      {cite['url']}" in _render(ans).split("\n")

    seed = answer(engine, "Việt Nam có bao nhiêu người sử dụng internet?").to_dict()
    assert seed["citations"][0]["source"] == "004_11babb57b19a238d.txt" and "url" not in seed["citations"][0]

    # Bad inputs added later are reported; nothing indexed before is lost.
    (corpus / "broken.html").write_bytes(b"\x00\x01binary")
    shutil.copy(FIXTURES / "boilerplate_only.html", corpus)
    (corpus / "dump.zip").write_bytes(b"PK\x03\x04")
    (corpus / "feed.jsonl").write_text('{"id": 1, "text": "Tin ngắn về Đà Nẵng."}\n{"id": 2, "tex\n',
                                       encoding="utf-8")
    result = build(config, progress=False, log=lambda msg: None, model=fake_model)
    assert {s.source for s in result.report.skipped} == {"broken.html", "boilerplate_only.html", "dump.zip",
                                                          "feed.jsonl:2"}
    engine = load(config, model=fake_model)
    assert sorted(engine.generation.articles) == ["004_11babb57b19a238d.txt", "en_article.html", "feed.jsonl#1",
                                                  "vi_article.html"]
    assert answer(engine, "Giá vé một lượt xe buýt điện ở Đà Nẵng là bao nhiêu?").to_dict()["citations"][0]["url"] \
        == cite["url"]
