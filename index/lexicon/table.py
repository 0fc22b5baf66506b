"""The English -> Vietnamese tables in ``index/data`` and their reverse index."""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from ..text import fold, nfc
from .english import IRREGULAR, lemmas
from .vietnamese import compatible, normalize_vi

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MAX_ALTERNATIVES = 8  # per English entry after merging the tables


def default_paths() -> tuple[Path, ...]:
    """Every ``index/data/lexicon-*.tsv.gz``, the Wiktionary table first."""
    found = sorted(DATA_DIR.glob("lexicon-*.tsv.gz"))
    return tuple(sorted(found, key=lambda p: (p.name != "lexicon-wiktionary.tsv.gz", p.name)))


def read_table(path: str | Path) -> dict[str, list[str]]:
    """One ``english<TAB>vi|vi`` table as a dict (comment and malformed lines skipped)."""
    table: dict[str, list[str]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            key, sep, values = line.rstrip("\n").partition("\t")
            if not sep or key.startswith("#"):
                continue
            alternatives = [v for v in values.split("|") if v]
            if key and alternatives:
                table.setdefault(key, []).extend(alternatives)
    return table


def _merge(tables: list[dict[str, list[str]]], cap: int) -> dict[str, tuple[str, ...]]:
    """Interleave the tables' alternatives per key (first table first), deduplicated, capped."""
    merged: dict[str, tuple[str, ...]] = {}
    for key in sorted(set().union(*tables)) if tables else []:
        lists = [t.get(key, []) for t in tables]
        out: list[str] = []
        for rank in range(max(map(len, lists))):
            for alternatives in lists:
                if rank < len(alternatives) and alternatives[rank] not in out:
                    out.append(alternatives[rank])
        merged[key] = tuple(out[:cap])
    return merged


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> "Lexicon":
    # The shipped tables are written normalised by scripts/build_lexicon.py; others are normalised here.
    shipped = all(Path(p).parent == DATA_DIR.resolve() for p in paths)
    return Lexicon(_merge([read_table(p) for p in paths], MAX_ALTERNATIVES), normalized=shipped)


class Lexicon:
    """English -> Vietnamese table with a reverse Vietnamese -> English index.

    Parameters
    ----------
    table : dict
        Lowercase English key -> Vietnamese alternatives, best first
        (normalised with :func:`normalize_vi` here).
    """

    def __init__(self, table: dict[str, tuple[str, ...] | list[str]], normalized: bool = False):
        self.table: dict[str, tuple[str, ...]] = {}
        clean = (lambda v: v) if normalized else normalize_vi  # the shipped tables are written normalised
        for key, values in table.items():
            alternatives = tuple(dict.fromkeys(clean(v) for v in values if v.strip()))
            if alternatives:
                self.table[" ".join(key.lower().split())] = alternatives
        # Reverse index: a Vietnamese string -> English keys, ranked by how high the
        # Vietnamese string stands in each English entry.
        # Ties go to English keys with more alternatives (frequent words are the
        # polysemous ones: "mạng" -> "network" before "darn"), then to shorter keys.
        ranked: dict[str, list[tuple[int, int, int, str]]] = {}
        for key, alternatives in self.table.items():
            for rank, vi in enumerate(alternatives):
                ranked.setdefault(vi, []).append((rank, -len(alternatives), key.count(" "), key))
        self._reverse: dict[str, tuple[str, ...]] = {
            vi: tuple(key for *_, key in sorted(keys)[:MAX_ALTERNATIVES])
            for vi, keys in ranked.items()
        }
        self._folded: dict[str, list[str]] = {}
        for vi in self._reverse:
            self._folded.setdefault(fold(vi), []).append(vi)
        self.max_vi_syllables = max((vi.count(" ") + 1 for vi in self._reverse), default=0)

    @classmethod
    def load(cls, paths=None) -> "Lexicon":
        """The merged tables at ``paths`` (default: :func:`default_paths`), cached per path tuple.

        Parameters
        ----------
        paths : iterable of str or Path, optional
            Table files in priority order; their alternatives are interleaved
            per key and capped at ``MAX_ALTERNATIVES``.

        Returns
        -------
        Lexicon
            Shared instance for the same paths (do not mutate it).
        """
        chosen = default_paths() if paths is None else tuple(paths)
        return _load(tuple(str(Path(p).resolve()) for p in chosen))

    def __len__(self) -> int:
        return len(self.table)

    def __contains__(self, term: str) -> bool:
        return bool(self.en_to_vi(term))

    def en_to_vi(self, term: str, lemmatize: bool = True) -> list[str]:
        """Vietnamese translations of an English word or phrase, best first.

        Parameters
        ----------
        term : str
            A word or a phrase of up to three words, any case.
        lemmatize : bool
            Also use the first of :func:`lemmas` of the (last) word that the
            table knows: instead of the form itself when the table lacks it,
            after it when the form is inflected ("cities" -> entries of
            "cities" and "city"; "signed" -> "sign").

        Returns
        -------
        list of str
            Empty when nothing matches.
        """
        words = nfc(term).lower().replace("’", "'").split()
        if not words:
            return []
        head, last = words[:-1], words[-1]
        # The form as typed, then (for inflected forms only: "cities", "signed") the
        # first lemma the table knows. "number" is not looked up as "numb".
        inflected = last in IRREGULAR or last.endswith(("s", "ed", "ing", "'"))
        found: list[str] = []
        forms = 0
        for tail in lemmas(last) if lemmatize else [last]:
            for form in dict.fromkeys((tail, tail.replace("-", ""), tail.replace("-", " "))):
                entry = self.table.get(" ".join([*head, form]))
                if entry:
                    found += [v for v in entry if v not in found]
                    forms += 1
                    break
            if forms == 2 or (forms == 1 and (tail != last or not inflected)):
                break
        return found[:MAX_ALTERNATIVES]

    def vi_to_en(self, term: str) -> list[str]:
        """English keys whose entries hold the Vietnamese ``term``, best first.

        ``term`` is compared in :func:`normalize_vi` form; when that finds
        nothing, entries the term could be with diacritics left out are used
        ("hop tac" -> "hợp tác"; an accent that is typed must match).

        Returns
        -------
        list of str
            Empty when nothing matches.
        """
        key = normalize_vi(term)
        if not key:
            return []
        found = self._reverse.get(key)
        if found:
            return list(found)
        out: list[str] = []
        for vi in self._folded.get(fold(key), ()):
            if compatible(key, vi):
                out += [e for e in self._reverse[vi] if e not in out]
        return out[:MAX_ALTERNATIVES]
