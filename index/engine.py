"""A loaded index generation with its model, and the one way to get one.

* ``load(config)`` -> ``Engine`` for the live generation (the CLI, the eval harness).
* ``prepare(config)`` -> build when missing or stale (rebuilding a damaged one), then load.
* ``LiveEngine`` -> what a long-running server holds: it loads in the background so
  the server can start at once, and follows rebuilds of the index without a restart.
"""
from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .config import Config
from .embedding import load_model, model_id
from .retrieve import Retriever
from .store import Generation, IndexCorrupt, current_path, load_generation, StoreError

RECENT_QUERIES = 256


@dataclass
class Engine:
    """Everything ``answer`` needs: settings, the loaded generation, its retriever and model."""

    config: Config
    generation: Generation
    retriever: Retriever
    model: object  # anything with encode(texts, prompt_name=...) -> unit vectors
    scorer: object | None = None  # combiner.AnswerScorer (QA_SCORER=learned), or None: the hand-made score
    query_shift: object | None = None  # query_shift.QueryShift (QA_QUERY_SHIFT), or None

    # Recent questions' vectors: a follow-up mixes in the earlier questions of its conversation,
    # which were embedded when they were asked. The current question is always encoded afresh,
    # so latency measurements of single questions stay honest.
    recent_queries: OrderedDict = field(default_factory=OrderedDict, repr=False)
    recent_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self.model.encode(text, prompt_name="query", normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        vector.flags.writeable = False
        with self.recent_lock:
            self.recent_queries[text] = vector
            self.recent_queries.move_to_end(text)
            while len(self.recent_queries) > RECENT_QUERIES:
                self.recent_queries.popitem(last=False)
        return vector

    def embed_earlier_query(self, text: str) -> np.ndarray:
        """The vector of a question asked before (from the recent ones when it is there)."""
        with self.recent_lock:
            vector = self.recent_queries.get(text)
        return vector if vector is not None else self.embed_query(text)

    def search_vector(self, vector: np.ndarray, language: str) -> np.ndarray:
        """The vector a question in ``language`` searches with: shifted for English over Vietnamese
        articles when the query shift applies to this model, else ``vector`` itself."""
        shift = self.query_shift
        if shift is not None and shift.applies(self.model_id, language, self.generation.languages):
            return shift.apply(vector)
        return vector

    @property
    def model_id(self) -> str:
        return self.generation.manifest.get("model_id", "")


def load(config: Config | None = None, model=None) -> Engine:
    """Load the live generation of ``config.index_dir``, the model it was built with, and the answer scorer.

    ``model`` replaces the configured embedding model (the tests pass a fake one).
    """
    from .combiner import load_scorer
    from .query_shift import load_query_shift

    config = config or Config.from_env()
    generation = load_generation(config.index_dir)
    model = model if model is not None else load_model(config)
    return Engine(config=config, generation=generation, retriever=Retriever(generation, config), model=model,
                  scorer=load_scorer(config), query_shift=load_query_shift() if config.query_shift else None)


def prepare(config: Config, model=None, progress: bool = True, log=lambda msg: print(msg, file=sys.stderr)) -> Engine:
    """Build the index if missing or stale and load it; a damaged generation is rebuilt."""
    from .build import build

    build(config, progress=progress, log=log, model=model)
    try:
        return load(config, model)
    except IndexCorrupt as exc:
        log(f"index is damaged ({exc}); refusing it and rebuilding")
        build(config, force=True, progress=progress, log=log, model=model)
        return load(config, model)


class LiveEngine:
    """The engine a server answers with: loaded in the background, swapped on rebuilds.

    ``get()`` waits for the first load, then reads the small CURRENT pointer (no
    lock when unchanged). A new generation is loaded under a lock, reusing the
    model when the model id is the same, else loading the configured model,
    which must be the one the generation was built with. Until it is loaded the
    old engine keeps answering, and a generation that fails to load (damaged,
    incomplete, built with another model) is refused once and the old engine kept.
    """

    def __init__(self, engine: Engine | None = None):
        self.engine = engine
        self.error: BaseException | None = None
        self._ready = threading.Event()
        if engine is not None:
            self._ready.set()
        self._lock = threading.Lock()
        self._refused: str | None = None

    @classmethod
    def start(cls, config: Config, model=None, log=lambda msg: print(msg, file=sys.stderr)) -> "LiveEngine":
        """Begin ``prepare(config)`` in a background thread and return at once."""
        live = cls()

        def run() -> None:
            try:
                live.engine = prepare(config, model=model, progress=False, log=log)
            except BaseException as exc:  # reported to every waiting caller
                live.error = exc
            finally:
                live._ready.set()

        threading.Thread(target=run, name="engine-loader", daemon=True).start()
        return live

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.engine is not None

    def wait(self, timeout: float | None = None) -> Engine:
        """The engine once loaded; raises what stopped the load, or TimeoutError."""
        if not self._ready.wait(timeout):
            raise TimeoutError("the index is still loading")
        if self.engine is None:
            raise self.error or RuntimeError("the engine failed to load")
        return self.engine

    def get(self, timeout: float | None = None) -> Engine:
        engine = self.wait(timeout)
        try:
            path = current_path(engine.config.index_dir)
        except (StoreError, OSError):
            return engine
        if path is None or path.name in (engine.generation.name, self._refused):
            return engine
        with self._lock:
            if self.engine.generation.name != path.name and self._refused != path.name:
                self._reload(path.name)
            return self.engine

    def _reload(self, name: str) -> None:
        old = self.engine
        try:
            gen = load_generation(old.config.index_dir)
            built_with = gen.manifest.get("model_id")
            model = old.model
            if built_with != old.model_id:
                model = load_model(old.config)
                serving = getattr(model, "model_id", None) or model_id(old.config)
                if serving != built_with:  # its vectors and our question vectors would not be comparable
                    raise StoreError(f"it was built with the model {built_with}, questions are embedded with {serving}")
            self.engine = Engine(config=old.config, generation=gen, retriever=Retriever(gen, old.config), model=model,
                                 scorer=old.scorer, query_shift=old.query_shift)
            print(f"index generation {gen.name} loaded (was {old.generation.name})", file=sys.stderr)
        except Exception as exc:  # keep serving the old generation, whatever went wrong
            self._refused = name
            print(f"index generation {name} refused, still serving {old.generation.name}: {exc}",
                  file=sys.stderr)
