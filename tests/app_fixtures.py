"""Helpers for the app tests: serve ``app.create_app(engine)`` on a free local port, hold a load open."""
from __future__ import annotations

import shutil
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

import app
from index import LiveEngine

HOST = "127.0.0.1"
LAUNCH_ATTEMPTS = 20
INTERNET = "Việt Nam có bao nhiêu người sử dụng internet?"
INTERNET_SOURCE = "004_11babb57b19a238d.txt"
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
    """A port free right now; another process may take it before it is bound (``launch_local`` retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def launch_local(demo, config=None, host: str | None = HOST) -> str:
    """Launch ``demo`` through ``app.launch`` on a free port; return its base URL on 127.0.0.1.

    Gradio raises OSError when the port it is given is taken (by then another
    process may have grabbed the one ``free_port`` saw free): try another port.
    ``host=None`` keeps the app's default bind address.
    """
    for _ in range(LAUNCH_ATTEMPTS):
        port = free_port()
        try:
            app.launch(demo, config, host=host, port=port, prevent_thread_lock=True, quiet=True)
        except OSError as exc:
            if "Cannot find empty port" not in str(exc):
                raise
            continue
        return f"http://{HOST}:{port}/"
    raise OSError(f"no free port for the app after {LAUNCH_ATTEMPTS} attempts")


@contextmanager
def serve(engine, config=None):
    """Yield the base URL of the app launched in this process on 127.0.0.1; close it afterwards."""
    demo = app.create_app(engine, config)
    url = launch_local(demo, config)
    try:
        yield url
    finally:
        demo.close()


class WatchedEngine(LiveEngine):
    """A LiveEngine that signals ``asked`` when a question reaches it before it has finished loading."""

    def __init__(self, engine=None):
        super().__init__(engine)
        self.asked = threading.Event()

    def get(self, timeout: float | None = None):
        if not self.ready:
            self.asked.set()
        return super().get(timeout)


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
