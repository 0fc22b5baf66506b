"""Helpers for the app tests: serve ``app.create_app(engine)`` on a free local port."""
from __future__ import annotations

import shutil
import socket
from contextlib import contextmanager
from pathlib import Path

import app

XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_ARTICLE = f"""Thử nghiệm hiển thị an toàn cho chatbot Zebrafin <b>đậm</b>

Ngày 15/01/2025, nhóm kỹ sư Zebrafin công bố kết quả kiểm thử giao diện.

Chuỗi kiểm thử của nhóm Zebrafin gồm {XSS_SCRIPT} và {XSS_IMG} được dán nguyên văn vào bài viết.

Nhóm Zebrafin cho biết giao diện phải hiển thị các ký tự này như văn bản thường.
"""
XSS_SOURCE = "900_xss_test.txt"
XSS_QUESTION = "Chuỗi kiểm thử của nhóm Zebrafin gồm những gì?"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(engine):
    """Yield the base URL of the app launched in this process on 127.0.0.1; close it afterwards."""
    demo = app.create_app(engine)
    port = free_port()
    app.launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def xss_corpus(corpus_dir: Path, index_dir: Path, tmp: Path) -> tuple[Path, Path]:
    """A copy of the corpus plus an article full of HTML, and a copy of its built index.

    Starting from a copy of an index built with the same model, the build only
    encodes the new article.
    """
    corpus = tmp / "corpus"
    shutil.copytree(corpus_dir, corpus)
    (corpus / XSS_SOURCE).write_text(XSS_ARTICLE, encoding="utf-8")
    index = tmp / "index"
    shutil.copytree(index_dir, index)
    return corpus, index
