"""The app serves its page before the index is loaded; a question asked meanwhile waits for it."""
from __future__ import annotations

import threading

import httpx
from gradio_client import Client

import app
from app_fixtures import free_port
from test_pipeline_fake import INTERNET, GatedModel
from index import Config, LiveEngine


def test_page_first_then_answers_once_loaded(tmp_path, corpus_dir):
    model = GatedModel()
    config = Config.from_env(corpus_dir=corpus_dir, index_dir=tmp_path / "index", scorer="hand",
                             feedback_log=tmp_path / "feedback.jsonl")
    live = LiveEngine.start(config, model=model, log=lambda m: None)
    demo = app.create_app(live, config)
    port = free_port()
    app.launch(demo, config, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        assert httpx.get(url, timeout=30).status_code == 200 and not live.ready
        result: dict = {}
        asker = threading.Thread(target=lambda: result.update(Client(url, verbose=False).predict(INTERNET, api_name="/ask")))
        asker.start()
        asker.join(timeout=2)
        assert asker.is_alive() and not result  # waiting for the engine, not failing
        model.gate.set()
        asker.join(timeout=60)
        assert not result["abstained"] and "78,44 triệu" in result["answer"]
    finally:
        model.gate.set()
        demo.close()
