from pathlib import Path

from index.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent


def _articles():
    articles, report = load_corpus(ROOT / "corpus")
    return {a.source: a for a in articles}, report


def test_seed_boilerplate_removed_and_paragraphs_kept():
    articles, report = _articles()
    assert len(articles) == 5 and not report.skipped
    everything = "\n".join(a.text for a in articles.values())
    for junk in ["POWERED BY", "Tổng lượt truy cập", "Bài liên quan", "Đừng bỏ lỡ", "Nổi bật",
                 "Theo dõi ICTVietnam", "Tham gia bình luận", "fanpage", "Go top", "(KGO)",
                 "Malaysia gây “sốc”", "bình chọn", "Khách Khách"]:
        assert junk not in everything, junk
    a000 = articles["000_7504c40543e0a5b2.txt"].text
    title = "Các nước cần tăng cường hợp tác để giải quyết thách thức về an ninh mạng"
    assert a000.count(title) == 1 and a000.startswith(title)
    assert "78,44 triệu người sử dụng internet" in articles["004_11babb57b19a238d.txt"].text
    assert "Đại tướng Tô Lâm" in articles["003_8bcb076a6ad5250c.txt"].text
    assert "Nakamitsu Izumi" in articles["001_8048d615bdaf0b64.txt"].text
    reasons = {r.reason for r in report.removed}
    assert {"duplicate line", "view counter", "related-articles list", "site footer"} <= reasons


def test_titles_and_dates():
    articles, _ = _articles()
    assert {s: a.date for s, a in articles.items()} == {
        "000_7504c40543e0a5b2.txt": "2017-10-12",
        "001_8048d615bdaf0b64.txt": "2020-05-25",
        "002_259c0121d269dcd6.txt": None,
        "003_8bcb076a6ad5250c.txt": "2022-10-21",
        "004_11babb57b19a238d.txt": "2024-12-09",
    }
    assert articles["002_259c0121d269dcd6.txt"].title.startswith("Bộ Quốc phòng duy trì hiệu quả")


def test_bad_files_are_skipped_with_reasons(tmp_path):
    (tmp_path / "good.txt").write_text("Tiêu đề\n\nMột đoạn văn có nội dung thật.", encoding="utf-8")
    (tmp_path / "zcopy.md").write_text("Tiêu đề\n\nMột đoạn văn có nội dung thật.", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\x00\x00\x01\x02" * 50)
    (tmp_path / "latin1.txt").write_bytes("Tiêu đề café".encode("latin-1", "replace") + b"\xe9\xff")
    (tmp_path / "utf16.txt").write_text("Bài viết UTF-16\n\nNội dung tiếng Việt.", encoding="utf-16")
    (tmp_path / "ignored.pdf").write_bytes(b"%PDF")
    articles, report = load_corpus(tmp_path)
    assert [a.source for a in articles] == ["good.txt", "utf16.txt"]
    skipped = {s.source: s.reason for s in report.skipped}
    assert skipped["zcopy.md"] == "duplicate of good.txt"
    assert skipped["empty.txt"] == "empty file"
    assert skipped["binary.txt"].startswith("binary")
    assert skipped["latin1.txt"].startswith("not UTF-8")
    assert "ignored.pdf" not in skipped
