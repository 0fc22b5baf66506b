#!/usr/bin/env python3
"""Derive the English -> Vietnamese lexicon tables in ``index/data`` from the shared dictionaries.

Writes one gzipped TSV per source, each under its source's licence (see
``index/data/LEXICON-NOTICE.md``)::

    lexicon-wiktionary.tsv.gz   English Wiktionary en->vi          CC BY-SA 3.0
    lexicon-fvdp.tsv.gz         FVDP/OVDP vi->en, inverted         GPL-2.0-or-later

Line format: ``english<TAB>vi1|vi2|...`` (English lowercase, 1-3 words, not a
stopword; Vietnamese NFC, lowercase, canonical tone placement, 1-5 syllables,
best first, at most 8). The output is sorted and gzipped with mtime 0, so a
rerun over the same inputs gives byte-identical files.

``--measure`` prints table sizes and the coverage of the English question
words of XQuAD articles 0-23 (the dev half; articles 24-47 are held out).

    .venv/bin/python scripts/build_lexicon.py
    .venv/bin/python scripts/build_lexicon.py --measure
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import re
import struct
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.lexicon import (  # noqa: E402
    EN_STOPWORDS, Lexicon, normalize_vi, read_table, spelling_variants,
)

CAP = 8
MAX_VI_SYLLABLES = 5
MAX_EN_WORDS = 3
DEV_ARTICLES = slice(0, 24)  # XQuAD articles used for measuring; 24-47 stay unseen

# Nominalisers dropped in front of a 2+ syllable rest ("sự hợp tác" -> "hợp tác" too).
_NOMINALISERS = ("sự ", "việc ", "cuộc ", "nền ")
_EN_WORD = re.compile(r"[a-z][a-z'-]*")
_BRACKETS = [re.compile(p) for p in (r"\([^()]*\)", r"\[[^\[\]]*\]", r"\{[^{}]*\}", r"/[^/]*/")]


def _strip_brackets(text: str) -> str:
    for _ in range(3):  # nested brackets: innermost first
        for pattern in _BRACKETS:
            text = pattern.sub(" ", text)
    return re.sub(r"[()\[\]{}/]", " ", text)


def _vietnamese_letter(c: str) -> bool:
    return c.isalpha() and (c < "\u0250" or "\u1e00" <= c <= "\u1eff")


def clean_vi(text: str) -> str | None:
    """One Vietnamese alternative in table form, or None when it is noise."""
    text = normalize_vi(text).strip(" .!?…'\"“”‘’-–—")
    if not text or ":" in text or "=" in text:
        return None
    syllables = text.split()
    if not 1 <= len(syllables) <= MAX_VI_SYLLABLES:
        return None
    for s in syllables:
        if not all(_vietnamese_letter(c) or c == "-" for c in s) or s.startswith("-") or s.endswith("-"):
            return None
    return text


def vi_variants(text: str) -> list[str]:
    """The cleaned alternative, preceded by its de-nominalised form ("hợp tác" before "sự hợp tác")."""
    for prefix in _NOMINALISERS:
        rest = text[len(prefix):]
        if text.startswith(prefix) and rest.count(" ") >= 1:
            return [rest, text]
    return [text]


def clean_en_key(headword: str) -> str | None:
    key = " ".join(headword.lower().replace("’", "'").split())
    words = key.split()
    if not 1 <= len(words) <= MAX_EN_WORDS or not all(_EN_WORD.fullmatch(w) for w in words):
        return None
    if key.startswith("-") or key.endswith("-") or key in EN_STOPWORDS or len(key) < 2:
        return None
    if words[0] in EN_STOPWORDS or words[-1] in EN_STOPWORDS:
        return None
    return key


# --- Wiktionary (en -> vi) -----------------------------------------------------------

_WIKT_LINE = re.compile(r"^(?P<head>.+?) \{(?P<pos>[^}]*)\}(?: \((?P<sense>.*)\))? :: (?P<vi>.*)$")
_SKIP_POS = {"prefix", "suffix", "proverb", "p)"}


def wiktionary_table(path: Path) -> dict[str, list[str]]:
    """English headword -> Vietnamese, ranked by senses sharing it, then list position."""
    stats: dict[str, dict[str, list[int]]] = defaultdict(dict)  # key -> vi -> [senses, pos, sense#, proper]
    sense_no: Counter = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _WIKT_LINE.match(line.strip())
        if not m or line.startswith("#") or m["pos"] in _SKIP_POS:
            continue
        key = clean_en_key(m["head"])
        if key is None:
            continue
        proper = m["head"][:1].isupper()
        sense = sense_no[key]
        sense_no[key] += 1
        pieces = re.split(r"[,;]", _strip_brackets(m["vi"]))
        position = 0
        seen_here: set[str] = set()
        for piece in pieces:
            vi = clean_vi(piece)
            if vi is None:
                continue
            for variant in vi_variants(vi):
                if variant in seen_here:
                    continue
                seen_here.add(variant)
                entry = stats[key].setdefault(variant, [0, position, sense, 0])
                entry[0] += 1
                entry[3] = max(entry[3], int(proper))
                position += 1
    table = {}
    for key, alternatives in stats.items():
        # Proper-noun senses first (questions capitalise names: "China" -> "trung quốc"),
        # then alternatives shared by more senses, then the dictionary's own order.
        ranked = sorted(alternatives.items(), key=lambda kv: (-kv[1][3], -kv[1][0], kv[1][1], kv[1][2], kv[0]))
        table[key] = [vi for vi, _ in ranked[:CAP]]
    return table


# --- FVDP / OVDP (vi -> en), inverted ----------------------------------------------------

def read_ovdp(folder: Path) -> dict[str, str]:
    """StarDict: NUL-terminated word + big-endian offset/size into the gunzipped .dict.dz."""
    data = gzip.decompress((folder / "ovdp-vi-en.dict.dz").read_bytes())
    idx = (folder / "ovdp-vi-en.idx").read_bytes()
    out: dict[str, str] = {}
    i = 0
    while i < len(idx):
        j = idx.index(b"\0", i)
        offset, size = struct.unpack(">II", idx[j + 1:j + 9])
        out[idx[i:j].decode("utf-8")] = data[offset:offset + size].decode("utf-8", "replace")
        i = j + 9
    return out


def read_fvdp(folder: Path) -> dict[str, str]:
    raw = json.loads((folder / "fvdp-vi-en.json").read_text(encoding="utf-8"))
    return {word: "\n".join(entry.get("definitions", [])) for word, entry in raw.items()
            if not word.startswith("00-")}


_POS = {"noun": "n", "danh từ": "n", "danh tù": "n", "verb": "v", "động từ": "v", "v": "v",
        "adj": "a", "adjective": "a", "tính từ": "a"}
_PREPOSITIONS = {"of", "for", "in", "on", "with", "to", "at", "by", "from", "as", "into", "about",
                 "against", "over", "under", "without", "within", "between", "through", "out",
                 "off", "up", "down", "away", "upon", "onto", "after", "before", "and", "or"}
_JOINED_PREFIX = re.compile(r"^(co|re|pre|non|anti|multi|inter|sub|semi|post|e)-[a-z]+$")
_FILLERS = {"one's", "oneself", "sb", "sth", "sb's", "someone", "something", "somebody",
            "someone's", "somebody's", "something's", "etc"}


def _english_pieces(sense: str) -> list[str]:
    """Short English glosses of one sense line ("law; rule; code" -> three pieces)."""
    sense = _strip_brackets(sense.replace("’", "'"))
    return [p.strip(" .!?'\"-").lower() for p in re.split(r"[;,.]", sense) if p.strip(" .!?'\"-")]


def _gloss(piece: str, pos: str | None) -> tuple[str, str, str | None] | None:
    """(head word, full phrase, phrase key or None) of one English gloss, or None when unusable."""
    words = piece.split()
    verb = pos == "v"
    if words and words[0] == "to":
        verb, words = True, words[1:]
        if words and words[0] == "be" and len(words) > 1:
            words = words[1:]
    while words and words[0] in ("a", "an", "the"):
        words = words[1:]
    words = [w for w in words if w not in _FILLERS]
    if not 1 <= len(words) <= MAX_EN_WORDS or not all(_EN_WORD.fullmatch(w) for w in words):
        return None
    if verb:
        head = words[0]
    else:
        prep = next((k for k, w in enumerate(words) if w in _PREPOSITIONS and k > 0), None)
        head = words[prep - 1] if prep is not None else words[-1]
    if head in EN_STOPWORDS or len(head) < 2 or not head[0].isalpha():
        return None
    phrase = " ".join(words)
    return head, phrase, clean_en_key(phrase) if len(words) > 1 else None


def _examples(text: str) -> list[tuple[str, str]]:
    """(Vietnamese, English) example pairs of one entry ("=trường đại học+university")."""
    pairs = []
    for line in text.split("\n"):
        if line.startswith("=") and "+" in line:
            vi, en = line[1:].split("+", 1)
            pairs.append((vi, en))
    return pairs


def _ngrams(text: str) -> Counter:
    syllables = [re.sub(r"[^\w-]", "", s) for s in normalize_vi(text).split()]
    return Counter(" ".join(syllables[k:k + n]) for n in range(1, MAX_VI_SYLLABLES + 1)
                   for k in range(len(syllables) - n + 1))


def inverted_table(entries: dict[str, str]) -> dict[str, list[str]]:
    """English word/phrase -> Vietnamese headwords whose English senses it heads.

    A link English word -> headword is kept when a gloss of the headword is
    1-3 words long (after "to", articles and "one's"/"sb" fillers) and the
    word is its head (the verb of a verb gloss, else the noun before the first
    preposition or the last word); a 2-3 word gloss is also an entry of its
    own. Example pairs whose sides are short ("=trường đại học+university")
    link the whole English side to the whole Vietnamese side. Sense lines of
    more than 15 words (encyclopedic notes) are skipped.

    Ranking, best first: the word is the whole first gloss; the whole of a
    later gloss or of an example; the head of the first gloss; the head of a
    later gloss. Ties go to the headword seen more often in the examples of
    *other* entries (a proxy for frequency), then to fewer glosses (a more
    specific headword), then fewer syllables.
    """
    own = {word: _ngrams(" ".join(vi for vi, _ in _examples(text))) for word, text in entries.items()}
    popularity: Counter = Counter()
    for counts in own.values():
        popularity.update(counts)
    links: dict[str, dict[str, tuple]] = defaultdict(dict)

    def link(english: str, vi: str, score: tuple) -> None:
        aliases = [english]
        if _JOINED_PREFIX.match(english):  # "co-operate" is also looked up as "cooperate"
            aliases.append(english.replace("-", "", 1))
        for key in aliases:
            old = links[key].get(vi)
            if old is None or score < old:
                links[key][vi] = score

    def rest(vi: str, n_glosses: int, first: bool) -> tuple:
        seen = popularity[vi] - own_counts[vi]
        return (-int(math.log2(seen + 1)), not first, n_glosses, -seen, vi.count(" "), vi)

    for headword, text in entries.items():
        own_counts = own[headword]
        vi = clean_vi(headword)
        if vi is None:
            continue
        glosses: list[tuple[str, str, str | None]] = []
        pos = None
        for line in text.split("\n"):
            if line.startswith("*"):
                pos = _POS.get(line[1:].strip(" .").lower())
            elif line.startswith("-") and len(line.split()) <= 16:
                for piece in _english_pieces(line[1:]):
                    g = _gloss(piece, pos)
                    if g and g[1] not in [x[1] for x in glosses]:
                        glosses.append(g)
        for k, (head, phrase, key) in enumerate(glosses):
            tier = (0 if k < 4 else 1) if phrase == head else (2 if k == 0 else 3)
            link(head, vi, (tier, *rest(vi, len(glosses), k == 0)))
            if key:  # the whole 2-3 word gloss is an entry of its own ("thyroid gland")
                link(key, vi, (0 if k < 4 else 1, *rest(vi, len(glosses), k == 0)))
        for vi_side, en_side in _examples(text):
            example = clean_vi(vi_side)
            if example is None:
                continue
            for piece in _english_pieces(en_side):
                g = _gloss(piece, None)
                key = g and (g[0] if g[1] == g[0] else g[2])
                if key:
                    link(key, example, (1, *rest(example, 1, False)))
    return {en: [vi for vi, _ in sorted(cands.items(), key=lambda kv: kv[1])[:CAP]]
            for en, cands in links.items() if clean_en_key(en)}


# --- output and measurement -------------------------------------------------------------

def write_table(table: dict[str, list[str]], path: Path, header: list[str]) -> None:
    lines = [f"# {h}" for h in header]
    lines += [f"{en}\t{'|'.join(vis)}" for en, vis in sorted(table.items()) if vis]
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(("\n".join(lines) + "\n").encode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw.getvalue())


def _content_words(question: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", question.lower()) if w not in EN_STOPWORDS and len(w) > 1]


def measure(out: Path, xquad: Path) -> None:
    """Print table sizes and dev coverage (XQuAD articles 0-23 only)."""
    en = json.loads((xquad / "xquad.en.json").read_text(encoding="utf-8"))["data"][DEV_ARTICLES]
    vi = json.loads((xquad / "xquad.vi.json").read_text(encoding="utf-8"))["data"][DEV_ARTICLES]
    samples = []  # (word, vietnamese paragraph)
    for a_en, a_vi in zip(en, vi):
        for p_en, p_vi in zip(a_en["paragraphs"], a_vi["paragraphs"]):
            context = normalize_vi(p_vi["context"])
            for qa in p_en["qas"]:
                samples += [(w, context) for w in _content_words(qa["question"])]
    paths = sorted(out.glob("lexicon-*.tsv.gz"), key=lambda p: (p.name != "lexicon-wiktionary.tsv.gz", p.name))
    for p in paths:
        print(f"{p.name}: {len(read_table(p)):,} entries, {p.stat().st_size:,} bytes")
    combos = {"wiktionary": [p for p in paths if "wiktionary" in p.name]}
    if len(paths) > 1:
        combos["fvdp"] = [p for p in paths if "fvdp" in p.name]
        combos["wiktionary+fvdp"] = paths
    itself = sum(w in ctx for w, ctx in samples)
    print(f"dev: {len(samples):,} English content-word tokens in the questions of XQuAD articles 0-23; "
          f"the English word itself occurs in the Vietnamese paragraph for {itself / len(samples):.1%}")
    print(f"{'tables':18} {'entries':>8} {'coverage':>9} {'useful':>7} {'useful@1':>9} {'useful|word':>12}")
    for name, chosen in combos.items():
        if not chosen:
            continue
        lex = Lexicon.load(chosen)
        covered = useful = useful1 = useful_word = 0
        for w, ctx in samples:
            found = lex.en_to_vi(w)
            if not found:
                continue
            covered += 1
            variants = [v for t in found for v in spelling_variants(t)]
            if any(v in ctx for v in variants):
                useful += 1
            if any(v in ctx for v in spelling_variants(found[0])):
                useful1 += 1
            if any(re.search(rf"(?<!\w){re.escape(v)}(?!\w)", ctx) for v in variants):
                useful_word += 1
        n = len(samples)
        print(f"{name:18} {len(lex):8,} {covered / n:9.1%} {useful / n:7.1%} {useful1 / n:9.1%} {useful_word / n:12.1%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "lexicons",
                        help="folder with the source dictionaries (default: ../shared/lexicons from the repo root)")
    parser.add_argument("--out", type=Path, default=ROOT / "index" / "data",
                        help="output folder (default: index/data)")
    parser.add_argument("--sources", default="wiktionary,fvdp",
                        help="comma-separated tables to write: wiktionary, fvdp (default: both)")
    parser.add_argument("--measure", nargs="?", type=Path, metavar="XQUAD_DIR",
                        const=ROOT.parent / "shared" / "benchmarks" / "xquad",
                        help="print sizes and dev coverage on XQuAD articles 0-23 "
                             "(default dir: ../shared/benchmarks/xquad)")
    args = parser.parse_args(argv)
    sources = {s.strip() for s in args.sources.split(",") if s.strip()}
    unknown = sources - {"wiktionary", "fvdp"}
    if unknown:
        parser.error(f"unknown source(s): {', '.join(sorted(unknown))}")
    rebuild = "python scripts/build_lexicon.py"
    if "wiktionary" in sources:
        table = wiktionary_table(args.shared / "en-vi-enwiktionary.txt")
        write_table(table, args.out / "lexicon-wiktionary.tsv.gz", [
            "English -> Vietnamese, derived from English Wiktionary (open-dsl-dict/wiktionary-dict,",
            "src/en-vi-enwiktionary.txt, version 20150102). License: CC BY-SA 3.0 (also GFDL).",
            f"Rebuild: {rebuild}. See index/data/LEXICON-NOTICE.md.",
        ])
        print(f"lexicon-wiktionary.tsv.gz: {len(table):,} entries")
    if "fvdp" in sources:
        entries = read_ovdp(args.shared)
        for word, text in read_fvdp(args.shared).items():
            entries.setdefault(word, text)
        table = inverted_table(entries)
        write_table(table, args.out / "lexicon-fvdp.tsv.gz", [
            "English -> Vietnamese, inverted from the Free Vietnamese Dictionary Project (JCharante/vietanh,",
            "dump-utf8.json) and the Open Vietnamese Dictionary Project (dynamotn/stardict-vi, vi-en/star_vietanh.*).",
            "Copyright (C) 1997-2003 The Free Vietnamese Dictionary Project. License: GPL-2.0-or-later.",
            f"Rebuild: {rebuild}. See index/data/LEXICON-NOTICE.md.",
        ])
        print(f"lexicon-fvdp.tsv.gz: {len(table):,} entries")
    if args.measure:
        measure(args.out, args.measure)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
