"""CMS exports (.jsonl, .json, .csv): one article per record, bad records reported by line; duplicates dropped."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from index.corpus import load_corpus
from legacy_samples import encode_cp1258
from ingest_fixtures import FIXTURES, fixture_corpus

NO_TEXT = "no text (no text / body / content field; QA_INGEST_FIELDS maps another)"


def _load(corpus: Path):
    articles, report = load_corpus(corpus)
    return {a.source: a for a in articles}, {s.source: s.reason for s in report.skipped}, report


def test_json_lines_export(tmp_path):
    articles, skipped, _ = _load(fixture_corpus(tmp_path, "cms_export.jsonl"))
    assert {s: (a.title, a.date, a.url, a.author) for s, a in articles.items()} == {
        "cms_export.jsonl#101": ("Hà Nội mở rộng phố đi bộ quanh hồ Hoàn Kiếm", "2024-05-01",
                                 "https://tinhanoi.example.vn/pho-di-bo-101", "Lê Văn Bình"),
        "cms_export.jsonl#102": ("Huế tổ chức lễ hội áo dài", "2024-05-02",
                                 "https://tinhanoi.example.vn/le-hoi-ao-dai-102", None),
        "cms_export.jsonl#105": ("Cần Thơ khánh thành cầu mới", "2024-05-04", None, None),
        "cms_export.jsonl#ba45c8adae81": ("Bài không có mã", None, None, None),
    }
    assert articles["cms_export.jsonl#101"].text == (
        "Hà Nội mở rộng phố đi bộ quanh hồ Hoàn Kiếm\n\n"
        "Từ ngày 1/5, thành phố Hà Nội mở rộng không gian đi bộ quanh hồ Hoàn Kiếm thêm 7 tuyến phố.\n\n"
        "Không gian đi bộ hoạt động từ 19 giờ tối thứ Sáu đến 24 giờ Chủ nhật hằng tuần.")
    # An HTML body becomes paragraphs: entities decoded, tags and scripts gone.
    assert articles["cms_export.jsonl#102"].text == (
        "Huế tổ chức lễ hội áo dài\n\n"
        "Lễ hội áo dài Huế năm nay thu hút hơn 5.000 người tham gia & trình diễn.\n\n"
        "Ban tổ chức cho biết lễ hội kéo dài ba ngày.")
    # No title field: the first line is the title (and not repeated); no date field: the one in the text.
    assert articles["cms_export.jsonl#105"].text == (
        "Cần Thơ khánh thành cầu mới\n\nCầu Trần Hoàng Na dài 1,1 km được khánh thành ngày 4/5/2024.")
    assert skipped == {
        "cms_export.jsonl:3": "broken JSON (Unterminated string starting at: column 55)",
        "cms_export.jsonl:4": NO_TEXT,
        "cms_export.jsonl:7": "not a JSON object",
        "cms_export.jsonl:8": "duplicate id: cms_export.jsonl#101 was read from cms_export.jsonl:1",
    }


def test_csv_export_with_bom_semicolons_and_quoted_newlines(tmp_path):
    raw = (FIXTURES / "cms_export.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid;title;") and b'""' in raw
    articles, skipped, _ = _load(fixture_corpus(tmp_path, "cms_export.csv"))
    assert {s: (a.title, a.date, a.url, a.text) for s, a in articles.items()} == {
        "cms_export.csv#201": ("Giá cà phê tăng kỷ lục", "2024-06-10", "https://kinhte.example.vn/ca-phe-201",
                               "Giá cà phê tăng kỷ lục\n\nGiá cà phê Robusta đạt 120.000 đồng/kg; cao nhất từ trước "
                               "đến nay.\n\nNông dân Đắk Lắk phấn khởi vì được mùa, được giá."),
        "cms_export.csv#203": ('Xuất khẩu tôm "khởi sắc"', "2024-06-11", "https://kinhte.example.vn/tom-203",
                               'Xuất khẩu tôm "khởi sắc"\n\nKim ngạch xuất khẩu tôm 5 tháng đạt 1,2 tỷ USD, tăng 8%.'),
    }
    assert skipped == {"cms_export.csv:5": NO_TEXT}  # line 5: the record after one spanning lines 2-4


@pytest.mark.parametrize("delimiter", [",", "\t", "|"])
def test_csv_delimiter_is_sniffed_from_the_header(tmp_path, delimiter):
    rows = [["id", "title", "text"], ["7", "Tiêu đề; có dấu chấm phẩy", "Nội dung, có dấu phẩy; và chấm phẩy."]]
    (tmp_path / "e.csv").write_text("\r\n".join(delimiter.join(f'"{c}"' for c in row) for row in rows),
                                    encoding="utf-8")
    articles, skipped, _ = _load(tmp_path)
    assert skipped == {}
    assert articles["e.csv#7"].text == "Tiêu đề; có dấu chấm phẩy\n\nNội dung, có dấu phẩy; và chấm phẩy."


def test_json_export_holding_a_list(tmp_path):
    articles, skipped, _ = _load(fixture_corpus(tmp_path, "cms_export.json"))
    [article] = articles.values()
    assert (article.source, article.title, article.date, article.url, article.text) == (
        "cms_export.json#a-1", "Đà Lạt đón mùa hoa mai anh đào", "2025-01-20", "https://dulich.example.vn/mai-anh-dao",
        "Đà Lạt đón mùa hoa mai anh đào\n\nHoa mai anh đào nở rộ khắp Đà Lạt từ giữa tháng 1.")
    assert skipped == {"cms_export.json[1]": "not a JSON object", "cms_export.json[2]": NO_TEXT}


@pytest.mark.parametrize("content, reason", [
    ('[{"text": "Một bài."}', "broken JSON (Expecting ',' delimiter: column 22)"),
    ('{"articles": "none"}', 'no list of records (expected [{...}, ...] or {"articles": [{...}, ...]})'),
    ("[" * 100_000, "broken JSON (nested too deeply)"),
])
def test_a_broken_json_file_is_reported_whole(tmp_path, content, reason):
    (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    (tmp_path / "good.txt").write_text("Tiêu đề\n\nMột bài viết bình thường.", encoding="utf-8")
    articles, skipped, _ = _load(tmp_path)
    assert list(articles) == ["good.txt"] and skipped == {"bad.json": reason}


def test_field_names_are_a_setting(tmp_path, monkeypatch):
    record = {"ma": "x9", "tieu_de": "Tiêu đề riêng", "noi_dung": "Nội dung theo tên trường riêng.",
              "text": "Trường text bị bỏ qua khi đã ánh xạ."}
    only_default_name = {"ma": "x10", "text": "Chỉ có trường text, không có noi_dung."}
    (tmp_path / "e.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (record, only_default_name)),
                                      encoding="utf-8")
    monkeypatch.setenv("QA_INGEST_FIELDS", '{"text": "noi_dung", "title": "tieu_de", "id": "ma"}')
    articles, skipped, _ = _load(tmp_path)
    assert list(articles) == ["e.jsonl#x9"]
    assert articles["e.jsonl#x9"].text == "Tiêu đề riêng\n\nNội dung theo tên trường riêng."
    assert skipped == {"e.jsonl:2": "no text (no noi_dung field; QA_INGEST_FIELDS maps another)"}
    for bad, message in [("not json", "must be a JSON object"), ('{"body": "x"}', "unknown fields ['body']"),
                         ('{"text": 3}', "must be a JSON object")]:
        monkeypatch.setenv("QA_INGEST_FIELDS", bad)
        with pytest.raises(ValueError, match="QA_INGEST_FIELDS") as error:
            load_corpus(tmp_path)
        assert message in str(error.value)


def test_record_ids_stay_when_records_move_and_checksums_follow_the_record(tmp_path):
    lines = (FIXTURES / "cms_export.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "e.jsonl").write_text("\n".join(lines), encoding="utf-8")
    before, _, _ = _load(tmp_path)
    edited = [json.loads(lines[0]) | {"text": "Nội dung đã sửa."}, *lines[::-1][:-1]]
    (tmp_path / "e.jsonl").write_text("\n".join(line if isinstance(line, str) else json.dumps(line)
                                                for line in edited), encoding="utf-8")
    after, _, _ = _load(tmp_path)
    assert set(before) == set(after)
    changed = {s for s in before if before[s].checksum != after[s].checksum}
    assert changed == {"e.jsonl#101"}  # only the edited record is embedded again


def test_a_record_too_large_is_skipped_with_its_size(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_INGEST_MAX_BYTES", "100")
    (tmp_path / "e.jsonl").write_text(json.dumps({"id": 1, "text": "chữ" * 60}) + "\n"
                                      + json.dumps({"id": 2, "text": "Bài ngắn."}), encoding="utf-8")
    articles, skipped, _ = _load(tmp_path)
    assert list(articles) == ["e.jsonl#2"]
    assert skipped == {"e.jsonl:1": "text too large (300 bytes > 100; QA_INGEST_MAX_BYTES sets the limit)"}
    monkeypatch.setenv("QA_INGEST_MAX_EXPORT_BYTES", "50")
    _, skipped, _ = _load(tmp_path)
    size = (tmp_path / "e.jsonl").stat().st_size
    assert skipped == {"e.jsonl": f"too large ({size:,} bytes > 50; QA_INGEST_MAX_EXPORT_BYTES sets the limit)"}


def test_the_same_article_under_two_names_is_kept_once(tmp_path):
    shutil.copy(FIXTURES / "vi_article.html", tmp_path / "a_page.html")
    shutil.copy(FIXTURES / "vi_article.html", tmp_path / "b_copy.htm")
    page_url = "https://thoisumientrung.example.vn/giao-thong/da-nang-xe-buyt-dien-12345.html"
    records = [
        # The same page exported by the CMS, its address written differently.
        {"id": 1, "title": "Xe buýt điện Đà Nẵng", "text": "Bản tóm tắt của cùng bài báo.",
         "url": page_url.replace("https://", "http://www.").replace(".vn/", ".vn:443/") + "#binh-luan"},
        {"id": 2, "text": "Một bài khác hẳn.", "url": "https://thoisumientrung.example.vn/khac"},
        {"id": 3, "text": "Một bài khác hẳn.", "url": "https://thoisumientrung.example.vn/khac-nua"},
    ]
    (tmp_path / "c_export.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records),
                                             encoding="utf-8")
    articles, skipped, _ = _load(tmp_path)
    assert sorted(articles) == ["a_page.html", "c_export.jsonl#2"]
    assert skipped == {
        "b_copy.htm": "duplicate of a_page.html",
        "c_export.jsonl#1": f"duplicate of a_page.html (same URL {records[0]['url']})",
        "c_export.jsonl#3": "duplicate of c_export.jsonl#2",
    }


def test_exports_in_a_legacy_encoding_are_converted(tmp_path):
    text = "id;title;text\n1;Tin Hà Nội;Hà Nội hôm nay có mưa rào và dông rải rác.\n"
    (tmp_path / "e.csv").write_bytes(encode_cp1258(text))
    articles, skipped, report = _load(tmp_path)
    assert articles["e.csv#1"].text == "Tin Hà Nội\n\nHà Nội hôm nay có mưa rào và dông rải rác."
    assert [(c.source, c.encoding) for c in report.converted] == [("e.csv", "Windows-1258")]
