"""The app serves its page before the index is loaded; a question asked meanwhile waits for it."""
from __future__ import annotations

import threading

import httpx
from gradio_client import Client

import app
from app_fixtures import INTERNET, WatchedEngine, launch_local
from fakes import GatedModel
from index import Config

WAIT_S = 120


def test_page_first_then_answers_once_loaded(tmp_path, corpus_dir):
    model = GatedModel()  # the load stays open until the test opens the gate
    config = Config.from_env(corpus_dir=corpus_dir, index_dir=tmp_path / "index", scorer="hand",
                             feedback_log=tmp_path / "feedback.jsonl")
    live = WatchedEngine.start(config, model=model, log=lambda m: None)
    demo = app.create_app(live, config)
    try:
        url = launch_local(demo, config)
        assert httpx.get(url, timeout=30).status_code == 200 and not live.ready
        result: dict = {}
        asker = threading.Thread(
            target=lambda: result.update(Client(url, verbose=False).predict(INTERNET, api_name="/ask")))
        asker.start()
        assert live.asked.wait(WAIT_S), "/ask never reached the engine"
        # The question is with the loading engine: neither answered nor failed while the gate is closed.
        assert not live.ready and asker.is_alive() and not result
        model.gate.set()
        asker.join(timeout=WAIT_S)
        assert not asker.is_alive(), "/ask still waiting after the engine loaded"
        assert not result["abstained"] and "78,44 triệu" in result["answer"]
    finally:
        model.gate.set()
        demo.close()
