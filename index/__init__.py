"""Cited, extractive question answering over a folder of news articles.

    from index import build, load, answer
    build()                      # corpus/ -> index generation in .cache/index
    engine = load()
    print(answer(engine, "Việt Nam có bao nhiêu người dùng internet?").to_dict())
"""
from .answer import Engine, answer, load
from .build import build
from .config import Config

__all__ = ["Config", "Engine", "answer", "build", "load"]
