"""Cited, extractive question answering over a folder of news articles.

    from index import build, load, answer
    build()                      # corpus/ -> index generation in .cache/index
    engine = load()
    print(answer(engine, "Việt Nam có bao nhiêu người dùng internet?").to_dict())
"""
from .answer import answer
from .build import build
from .config import Config
from .engine import Engine, LiveEngine, load, prepare

__all__ = ["Config", "Engine", "LiveEngine", "answer", "build", "load", "prepare"]
