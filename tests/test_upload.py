"""Articles uploaded from the chat (``app.Chat.upload``), called directly with files in tmp_path.

Each test serves a copy of the project corpus indexed with the fake embedder. An upload
must land in the corpus folder under a safe name, be indexed by an incremental build and
be answerable at once (the LiveEngine follows the new generation); a bad upload gets a
clear message in the chat and leaves the corpus and the index as they were.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import app
from app_fixtures import INTERNET, INTERNET_SOURCE
from app_text import TEXT
from checks import assert_verbatim
from index import Config, LiveEngine, build, load
from index.ingest import encodings
from index.ingest.upload import safe_name
from ingest_fixtures import FIXTURES
from legacy_samples import encode_bytes

CODES = TEXT["en"]["upload_codes"]
PAGE_URL = "https://tin.example.vn/kinh-te/zebrafin-da-nang-345.html"
PAGE = f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Zebrafin mở văn phòng tại Đà Nẵng | Tin Example</title>
<link rel="canonical" href="{PAGE_URL}"></head>
<body><nav><a href="/">Trang chủ</a> <a href="/kinh-te">Kinh tế</a></nav>
<article><h1>Zebrafin mở văn phòng tại Đà Nẵng</h1>
<p>Ngày 3/2/2025, công ty phần mềm Zebrafin khai trương văn phòng mới tại Đà Nẵng.</p>
<p>Công ty Zebrafin có 345 nhân viên tại Đà Nẵng, theo giám đốc điều hành của công ty.</p>
<p>Văn phòng mới sẽ phục vụ khách hàng ở các tỉnh miền Trung trong năm tới.</p></article>
<footer>© 2025 Tin Example</footer></body></html>"""
PAGE_QUESTION = "Công ty Zebrafin có bao nhiêu nhân viên tại Đà Nẵng?"
TEXT_ARTICLE = ("Zebrafin tuyển kỹ sư ở Huế\n\nNgày 5/6/2025, công ty Zebrafin tuyển thêm 40 kỹ sư phần mềm tại Huế "
                "cho dự án bản đồ số.\n\nCác kỹ sư mới sẽ làm việc tại văn phòng Huế từ tháng 7.\n")


@pytest.fixture
def chat(tmp_path, corpus_dir, fake_model) -> app.Chat:
    """The chat over a copy of the project corpus indexed with the fake embedder."""
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus)
    config = Config.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", scorer="hand",
                             feedback_log=tmp_path / "feedback.jsonl")
    build(config, progress=False, log=lambda msg: None, model=fake_model)
    return app.Chat(LiveEngine(load(config, model=fake_model)), config)


def upload(chat: app.Chat, *paths: Path, lang: str = "en", history=(), turns=()) -> tuple:
    """The handler's last update: (chat messages, turns, corpus panel, source choices, file control)."""
    *_, last = chat.upload([str(p) for p in paths], list(history), list(turns), lang)
    return last


def files(folder: Path, **contents: str | bytes) -> list[Path]:
    """Each ``name=content`` written to ``folder``; their paths, in order."""
    folder.mkdir(exist_ok=True)
    paths = []
    for name, content in contents.items():
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        paths.append(path)
    return paths


def state(chat: app.Chat) -> tuple[str, dict[str, bytes]]:
    """(the generation answering, every file of the corpus folder with its bytes)."""
    folder = chat.live.engine.config.corpus_dir
    return chat.live.get().generation.name, {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def report_items(reply: str) -> list[str]:
    return [item.split("</li>")[0] for item in reply.split("<li")[1:]]


@pytest.mark.parametrize("original, name", [
    ("tin.html", "tin.html"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("/var/www/bài viết mới.HTML", "bài viết mới.html"),
    ("C:\\Users\\ban\\tin.md", "tin.md"),
    (".hidden.txt", "hidden.txt"),
    ("...txt", "upload.txt"),
    ("a\x00b\x1b[31m.txt", "ab_31m.txt"),
    ("tin\u202etxt.html", "tintxt.html"),  # a bidi override would disguise the suffix
    ("<script>alert(1)<:script>.html", "_script_alert_1___script_.html"),
    ("Ti\u0301n mo\u031bi.txt", "Tín mơi.txt"),  # NFC
    ("x" * 300 + ".json", "x" * 100 + ".json"),
    ("noext", "noext"),
])
def test_safe_names(original, name):
    assert safe_name(original) == name


def test_an_uploaded_page_is_answerable_at_once_with_its_url(chat, tmp_path):
    before, corpus_before = state(chat)
    assert "tin.html" not in chat.live.engine.generation.articles
    replies = list(chat.upload([str(p) for p in files(tmp_path / "up", **{"tin.html": PAGE})], [], [], "vi"))
    building = replies[0][0][-1]["content"]
    assert "qa-loading" in building and app.esc(TEXT["vi"]["upload_building"]) in building
    history, turns, corpus_panel, choices, control = replies[-1]
    assert history[0] == {"role": "user", "content": '<span class="qa-upload-files">⇪ tin.html</span>'}
    assert app.esc(TEXT["vi"]["upload_done"].format(n=1)) in history[1]["content"]
    (item,) = report_items(history[1]["content"])
    assert "<code>tin.html</code>: đã thêm · 1 bài viết “Zebrafin mở văn phòng tại Đà Nẵng”" in item
    assert turns == [{"answer": {}, "lang": "vi", "upload": True}] and control is None

    after, corpus_after = state(chat)
    assert after != before and set(corpus_after) == set(corpus_before) | {"tin.html"}
    assert corpus_after["tin.html"] == PAGE.encode()
    ans = chat.ask(PAGE_QUESTION)
    cite = ans["citations"][0]
    assert cite["source"] == "tin.html" and "345 nhân viên" in cite["quote"]
    assert cite["url"].startswith(PAGE_URL + "#:~:text=")
    assert_verbatim(chat.live.engine.generation.articles, ans)
    assert "<code>tin.html</code>" in corpus_panel  # the corpus list shows it
    assert ("Zebrafin mở văn phòng tại Đà Nẵng — tin.html", "tin.html") in choices["choices"]
    assert ("tin.example.vn (tên miền · domain)", "tin.example.vn") in choices["choices"]
    assert chat.ask(INTERNET)["citations"][0]["source"] == INTERNET_SOURCE  # the rest is still answered


def test_names_are_plain_and_never_replace_a_file(chat, tmp_path):
    first = files(tmp_path / "a", **{".tin.txt": TEXT_ARTICLE})
    other = TEXT_ARTICLE.replace("40 kỹ sư", "60 kỹ sư").replace("Huế", "Vinh")
    second = files(tmp_path / "b", **{"tin.txt": other, "tin<2>.txt": TEXT_ARTICLE.replace("Huế", "Hội An")})
    history, turns, *_ = upload(chat, *first)
    assert "saved as tin.txt" in report_items(history[-1]["content"])[0]
    history, turns, *_ = upload(chat, *second, history=history, turns=turns)
    renamed, odd = report_items(history[-1]["content"])
    assert "<code>tin.txt</code>: added · 1 article(s)" in renamed and "saved as tin-2.txt" in renamed
    assert "saved as tin_2_.txt" in odd
    folder = chat.live.engine.config.corpus_dir
    assert (folder / "tin.txt").read_text(encoding="utf-8") == TEXT_ARTICLE  # the first upload is kept
    assert (folder / "tin-2.txt").read_text(encoding="utf-8") == other
    assert {"tin.txt", "tin-2.txt", "tin_2_.txt"} <= set(chat.live.engine.generation.articles)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no staging or temporary file left

    generation = chat.live.engine.generation.name
    history, *_ = upload(chat, *first, history=history, turns=turns)  # the same file again
    (again,) = report_items(history[-1]["content"])
    assert f"<code>.tin.txt</code>: {CODES['same_file']}" in again and "saved as tin.txt" in again
    assert TEXT["en"]["upload_nothing"] in history[-1]["content"]
    assert chat.live.get().generation.name == generation


def test_size_and_count_limits(chat, tmp_path):
    small = app.Chat(chat.live, chat.config.with_(upload_max_bytes=len(TEXT_ARTICLE.encode()) + 10,
                                                  upload_max_files=2))
    before = state(small)
    big = files(tmp_path / "big", **{"big.txt": TEXT_ARTICLE + "x" * 20})
    history, *_ = upload(small, *big)
    size = big[0].stat().st_size
    (item,) = report_items(history[-1]["content"])
    assert item == (' class="qa-refused"><code>big.txt</code>: '
                    + app.esc(CODES["too_large"].format(detail=f"{size:,} bytes > {size - 10:,}")))
    three = files(tmp_path / "three", **{f"{n}.txt": TEXT_ARTICLE.replace("40", str(n)) for n in (1, 2, 3)})
    history, *_ = upload(small, *three)
    assert [i.split("</code>: ")[1] for i in report_items(history[-1]["content"])] == \
        [app.esc(CODES["too_many"].format(detail="3 > 2"))] * 3
    assert state(small) == before
    history, *_ = upload(small, *three[:2])  # within both limits
    assert TEXT["en"]["upload_done"].format(n=2) in history[-1]["content"]


def test_archives_and_other_formats_are_refused(chat, tmp_path):
    before = state(chat)
    refused = files(tmp_path / "up", **{"tin.zip": b"PK\x03\x04" + b"\x00" * 40, "tin.tar.gz": b"\x1f\x8b\x08\x00",
                                        "tin.tgz": b"\x1f\x8b", "anh.png": b"\x89PNG\r\n", "README": b"text"})
    history, *_ = upload(chat, *refused)
    assert [i.split("</code>: ")[1] for i in report_items(history[-1]["content"])] == [
        app.esc(CODES["archive"].format(detail=".zip")), app.esc(CODES["archive"].format(detail=".gz")),
        app.esc(CODES["archive"].format(detail=".tgz")), app.esc(CODES["format"].format(detail=".png")),
        app.esc(CODES["format"].format(detail="README"))]
    assert 'class="qa-answer qa-upload qa-abstain"' in history[-1]["content"]
    assert state(chat) == before


def test_bad_files_get_a_reason_and_nothing_indexed_is_lost(chat, tmp_path, corpus_dir):
    before = state(chat)
    bad = files(tmp_path / "up", **{
        "photo.html": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "menu.html": (FIXTURES / "boilerplate_only.html").read_bytes(),
        "empty.txt": b"",
        "copy.txt": (corpus_dir / INTERNET_SOURCE).read_bytes(),  # an indexed article under another name
        "twice.txt": TEXT_ARTICLE + "\n", "twice-again.txt": TEXT_ARTICLE + "\n",
    })
    history, *_ = upload(chat, *bad)
    items = dict(i.split("</code>: ", 1) for i in report_items(history[-1]["content"]))
    assert items[' class="qa-refused"><code>photo.html'] == app.esc(
        CODES["no_article"].format(detail="binary file (NUL bytes)"))
    assert items[' class="qa-refused"><code>menu.html'] == app.esc(CODES["no_article"].format(
        detail="no main text: the page holds only navigation, links or other boilerplate"))
    assert items[' class="qa-refused"><code>empty.txt'] == app.esc(CODES["no_article"].format(detail="empty file"))
    assert items[' class="qa-refused"><code>copy.txt'] == app.esc(CODES["duplicate"].format(detail=INTERNET_SOURCE))
    # Of two uploads with the same text, the first by name is kept, as in the corpus folder.
    assert items[' class="qa-refused"><code>twice.txt'] == app.esc(
        CODES["no_article"].format(detail="duplicate of twice-again.txt"))
    assert items["><code>twice-again.txt"].startswith("added · 1 article(s)")
    generation, corpus = state(chat)
    assert corpus == {**before[1], "twice-again.txt": (TEXT_ARTICLE + "\n").encode()} and generation != before[0]
    assert set(chat.live.get().generation.articles) == set(before[1]) | {"twice-again.txt"}
    assert chat.ask(INTERNET)["citations"][0]["source"] == INTERNET_SOURCE


def test_a_failed_build_keeps_the_index_and_takes_the_files_out(chat, tmp_path, monkeypatch):
    before = state(chat)

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(app, "build", fail)
    history, *_ = upload(chat, *files(tmp_path / "up", **{"tin.html": PAGE}))
    reply = history[-1]["content"]
    assert 'class="qa-answer qa-upload qa-error"' in reply
    assert app.esc(TEXT["en"]["upload_failed"].format(error="OSError: [Errno 28] No space left on device")) in reply
    assert state(chat) == before
    assert chat.ask(INTERNET)["citations"][0]["source"] == INTERNET_SOURCE


def test_the_report_names_converted_encodings_and_skipped_records(chat, tmp_path):
    legacy = encode_bytes(TEXT_ARTICLE, encodings.TCVN3)
    export = ('{"id": "1", "title": "Zebrafin ở Vinh", "text": "Ngày 2/2/2025, công ty Zebrafin mở văn phòng '
              'tại Vinh với 12 nhân viên."}\n{"id": "2", "title": "Không có nội dung"}\n')
    history, *_ = upload(chat, *files(tmp_path / "up", **{"cu.txt": legacy, "xuat.jsonl": export}))
    converted, records = report_items(history[-1]["content"])
    assert "converted from TCVN3" in converted
    assert "skipped xuat.jsonl:2: no text (no text / body / content field; QA_INGEST_FIELDS maps another)" in records
    articles = chat.live.engine.generation.articles
    assert articles["cu.txt"].text == TEXT_ARTICLE.strip() and "xuat.jsonl#1" in articles


def test_uploads_switched_off(chat, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_UPLOAD", "0")
    off = Config.from_env(corpus_dir=chat.config.corpus_dir, index_dir=chat.config.index_dir, scorer="hand")
    assert off.upload is False and app.max_file_size(off) == 1024 * 1024
    assert app.max_file_size(chat.config) == chat.config.upload_max_bytes == 5_000_000
    before = state(chat)
    refusing = app.Chat(chat.live, off)
    replies = list(refusing.upload([str(p) for p in files(tmp_path / "up", **{"tin.html": PAGE})], [], [], "vi"))
    assert len(replies) == 1  # no build started
    assert replies[0][0][-1]["content"] == ('<div class="qa-answer qa-error" lang="vi"><p class="qa-msg">'
                                            f'{app.esc(TEXT["vi"]["upload_off"])}</p></div>')
    assert state(chat) == before
    def elem_ids(config: Config) -> set[str]:
        return {block.get("props", {}).get("elem_id") for block in app.create_app(chat.live, config).config["components"]}

    assert "upload" not in elem_ids(off) and "question" in elem_ids(off)
    assert "upload" in elem_ids(chat.config)


def test_an_upload_is_a_turn_without_an_answer(chat, tmp_path):
    *_, asked = chat.respond(INTERNET, [], [], "Auto")
    history, turns, *_ = upload(chat, *files(tmp_path / "up", **{"tin.html": PAGE}), history=asked[1], turns=asked[2])
    assert len(history) == 4 and [bool(t.get("upload")) for t in turns] == [False, True]
    *_, follow = chat.respond(PAGE_QUESTION, history, turns, "Auto")
    assert follow[2][2]["answer"]["citations"][0]["source"] == "tin.html"
    assert chat.conversation(follow[2]) == [follow[2][0]["answer"], follow[2][2]["answer"]]
    # "Helpful" rates the last answer; a vote on the upload's report rates nothing.
    assert chat.rate(turns, "en", "helpful") == TEXT["en"]["feedback_saved"]
    assert chat.rate(turns, "en", "helpful", index=1) == TEXT["en"]["feedback_nothing"]
    assert chat.rate(turns[1:], "en", "helpful") == TEXT["en"]["feedback_nothing"]


def test_the_ingest_limits_are_the_configs(chat, tmp_path, fake_model):
    """The build and the upload read files with the Config's QA_INGEST_* settings, not the defaults."""
    folder = chat.live.engine.config.corpus_dir
    limit = 9_000
    small = chat.live.engine.config.with_(ingest_max_bytes=limit, index_dir=tmp_path / "small-index")
    result = build(small, progress=False, log=lambda msg: None, model=fake_model)
    too_large = {p.name: f"too large ({p.stat().st_size:,} bytes > {limit:,}; QA_INGEST_MAX_BYTES sets the limit)"
                 for p in folder.iterdir() if p.stat().st_size > limit}
    assert too_large and {s.source: s.reason for s in result.report.skipped} == too_large
    assert set(load(small, model=fake_model).generation.articles) == {p.name for p in folder.iterdir()} - set(too_large)

    strict = app.Chat(LiveEngine(load(small, model=fake_model)), chat.config)
    page = (PAGE.replace("</article>", "<p>" + "Văn phòng Zebrafin rộng rãi. " * 400 + "</p></article>"))
    history, *_ = upload(strict, *files(tmp_path / "up", **{"dai.html": page}))
    size = len(page.encode())
    reason = f"too large ({size:,} bytes > {limit:,}; QA_INGEST_MAX_BYTES sets the limit)"
    assert report_items(history[-1]["content"]) == [
        ' class="qa-refused"><code>dai.html</code>: ' + app.esc(CODES["no_article"].format(detail=reason))]
    assert not (folder / "dai.html").exists()
