"""Gradio hardening over HTTP: no file outside the allowed paths is served, uploads are capped,
private handlers cannot be called, and the bind address follows HOST only when it is set.

(The default bind, upload limit, queue size and the single /ask endpoint in the
API description are tested in tests/test_app.py.)
"""
from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

import app
from app_fixtures import serve
from index.question import MESSAGES

ROOT = Path(__file__).resolve().parent.parent
SECRETS = [b"root:x:0:0", b"def create_app", b"cited-news-qa-index", b"HF_HUB_OFFLINE"]


@pytest.fixture(scope="module")
def url(engine):
    with serve(engine) as base:
        yield base


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalisation of ../ or %2e)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read(2_000_000)
    finally:
        conn.close()


def traversal_paths(engine) -> list[str]:
    index = str(engine.config.index_dir)
    app_py = str(ROOT / "app.py")
    paths = []
    for prefix in ("/gradio_api/file=", "/file=", "/gradio_api/file/"):
        paths += [
            prefix + "/etc/passwd",
            prefix + "../../../../../../etc/passwd",
            prefix + "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
            prefix + "%2Fetc%2Fpasswd",
            prefix + "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            prefix + "....//....//....//etc/passwd",
            prefix + "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
            prefix + app_py,
            prefix + "app.py",
            prefix + index + "/CURRENT",
            prefix + index + "/generations",
            prefix + "/proc/self/environ",
            prefix + "~/.bashrc",
        ]
    paths += ["/static/../../../../etc/passwd", "/assets/../../app.py", "/gradio_api/static/%2e%2e/app.py",
              "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/app.py", "/.cache/index/CURRENT"]
    return paths


def test_no_file_outside_allowed_paths_is_served(url, engine):
    served = []
    for path in traversal_paths(engine):
        status, body = raw_get(url, path)
        if status not in (400, 403, 404, 405) or any(s in body for s in SECRETS):
            served.append((path, status, body[:80]))
    assert not served, served


def test_upload_over_the_limit_is_refused(url):
    r = httpx.post(url + "gradio_api/upload", files={"files": ("big.txt", b"x" * (app_limit() + 1024))},
                   timeout=60)
    assert r.status_code == 413, r.text[:200]
    assert r.text == f"File size exceeded maximum allowed size of {app_limit()} bytes."  # no stored path


def app_limit() -> int:
    return 5_000_000  # QA_UPLOAD_MAX_BYTES: the article upload limit is the server's


def test_ui_handlers_are_not_an_extra_attack_surface(url):
    """UI handlers are hidden from the API description; gradio still routes the chat handler by name
    (the browser needs them); the chat handler validates exactly like /ask. Unknown names are refused."""
    r = httpx.post(url + "gradio_api/call/respond", json={"data": ["Việt Nam\x00", [], [], "Auto"]}, timeout=30)
    assert r.status_code == 200
    stream = httpx.get(url + f"gradio_api/call/respond/{r.json()['event_id']}", timeout=60).text
    assert "event: complete" in stream and "Traceback" not in stream, stream[:500]
    history = json.loads(stream.split("event: complete\ndata:", 1)[1])[1]
    reply = history[-1]["content"][0]["text"]
    assert reply == ('<div class="qa-answer qa-error" lang="vi"><p class="qa-msg">'
                     f'{app.esc(MESSAGES["control_chars"]["vi"])}</p></div>')
    for name in ("rate", "nope", "..%2Fask"):
        r = httpx.post(url + f"gradio_api/call/{name}", json={"data": []}, timeout=30)
        assert r.status_code != 200 and "Traceback" not in r.text, (name, r.status_code)


def test_errors_do_not_leak_tracebacks(url):
    r = httpx.post(url + "gradio_api/call/ask", content=b"{not json", headers={"content-type": "application/json"},
                   timeout=30)
    assert r.status_code == 422, r.text[:300]
    assert "Traceback" not in r.text and 'File "' not in r.text
    # A call without its argument is queued, then fails; the client is told that it failed, not why.
    r = httpx.post(url + "gradio_api/call/ask", json={"data": []}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    stream = httpx.get(url + f"gradio_api/call/ask/{r.json()['event_id']}", timeout=30).text
    event, data = stream.strip().split("\n")
    assert event == "event: error" and json.loads(data.removeprefix("data:")) == {"error": None}, stream


@pytest.mark.parametrize("env_host, arg_host, expected", [
    (None, None, "127.0.0.1"),
    ("0.0.0.0", None, "0.0.0.0"),  # told otherwise through HOST
    ("0.0.0.0", "127.0.0.1", "127.0.0.1"),  # an explicit argument wins
    ("", None, "127.0.0.1"),
])
def test_bind_address(monkeypatch, env_host, arg_host, expected):
    captured = {}

    class Demo:
        def launch(self, **kwargs):
            captured.update(kwargs)

    if env_host is None:
        monkeypatch.delenv("HOST", raising=False)
    else:
        monkeypatch.setenv("HOST", env_host)
    app.launch(Demo(), host=arg_host, port=7999)
    assert captured["server_name"] == expected
    assert captured["max_file_size"] == 5_000_000 and captured["show_error"] is False
