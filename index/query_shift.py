"""English questions moved towards Vietnamese ones before a Vietnamese corpus is searched.

The embedding model gives every language a direction of its own: an English sentence and its
Vietnamese translation, both encoded as queries, have a mean cosine of 0.895 (NTREX-128 dev stories
and Tatoeba, 1,979 pairs). Adding the difference between the two languages' mean query vectors to an
English question (centring by language, as in Libovický et al. 2020, "On the Language Neutrality of
Pre-trained Multilingual Representations") raises that to 0.928, and the passage R@1 of English questions
over XQuAD's Vietnamese dev paragraphs from 82.9 to 85.0 %; an orthogonal map fitted on the same pairs
(Procrustes) overfits them (83.1 %). ``scripts/build_query_shift.py`` rebuilds the vector.

Only the passage search reads the shifted vector: the corpus-wide sentence search and the answer
scorer's cosines stay the model's own, the scale on which its cross-lingual shift
(``Config.cross_lingual_shift``) was measured. The shift belongs to one
model; under any other (``EMBED_MODEL``) it is not applied.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .files import sha256_file

FOLDER = Path(__file__).resolve().parent / "data" / "alignment"
SHIFT_FILE = "query-shift-en-vi.json.gz"
REBUILD = "rebuild it with `python scripts/build_query_shift.py`, or set QA_QUERY_SHIFT=false"


class QueryShiftError(RuntimeError):
    """The shift file is missing, damaged or does not match its manifest."""


@dataclass(frozen=True)
class QueryShift:
    """A vector added to ``source`` questions' query vectors before searching ``target`` articles."""

    model: str  # the embedding model it was measured with (the part of a model id before "@")
    source: str
    target: str
    vector: np.ndarray
    meta: dict

    def applies(self, model_id: str, question_language: str, corpus_languages) -> bool:
        """For this model, a question in ``source`` over a corpus entirely in ``target`` (a mixed corpus
        holds ``source`` articles the shift would move the question away from)."""
        return (model_id.split("@")[0] == self.model and question_language == self.source
                and set(corpus_languages) == {self.target})

    def apply(self, vector: np.ndarray) -> np.ndarray:
        shifted = np.asarray(vector, dtype=np.float32) + self.vector
        return (shifted / np.linalg.norm(shifted)).astype(np.float32)


def write_query_shift(shift: QueryShift, folder: Path = FOLDER) -> Path:
    """``SHIFT_FILE`` (gzip, mtime 0: a rebuild from the same vectors is byte-identical) and its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {"model": shift.model, "source": shift.source, "target": shift.target,
            "vector": [round(float(x), 7) for x in shift.vector], "meta": shift.meta}
    path = folder / SHIFT_FILE
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write((json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    manifest = {"files": {SHIFT_FILE: sha256_file(path)}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return path


@lru_cache(maxsize=4)
def load_query_shift(folder: Path = FOLDER) -> QueryShift:
    """The shift in ``folder``, checked against its manifest's sha256.

    Raises
    ------
    QueryShiftError
        When the file or the manifest is missing, the checksum differs, or the content is malformed.
    """
    folder = Path(folder)
    path = folder / SHIFT_FILE
    try:
        expected = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"][SHIFT_FILE]
        if sha256_file(path) != expected:
            raise QueryShiftError(f"{path} does not match the sha256 in its manifest; {REBUILD}")
        data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
        vector = np.asarray(data["vector"], dtype=np.float32)
        if vector.ndim != 1 or not np.isfinite(vector).all():
            raise ValueError("the vector is not a finite 1-d list")
        return QueryShift(str(data["model"]), str(data["source"]), str(data["target"]), vector, data.get("meta", {}))
    except QueryShiftError:
        raise
    except (OSError, KeyError, TypeError, ValueError, EOFError, gzip.BadGzipFile) as exc:
        raise QueryShiftError(f"cannot read the query shift in {folder}: {exc}; {REBUILD}") from exc
