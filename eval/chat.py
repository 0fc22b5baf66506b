"""``python -m eval chat``: follow-up questions in a conversation, answered with and without the earlier turns.

Every conversation is answered turn by turn twice: with history (each turn gets the
earlier turns' Answer JSON, which carries their question and citations, as
``index.answer`` takes it) and alone. A turn is scored as a gold question is:
``source@1`` = the first citation is the gold article, ``hit`` = it is and its quote
contains a gold answer (NFC, casefold, whitespace collapsed); abstaining misses both.
Results are grouped by the turn's kind: ``first``, ``follow-up`` (same topic, often
a pronoun or an ellipsis), ``switch`` (a self-contained question on another
article) and ``return`` (back to an earlier topic). ``history used`` is the share of
answers whose ``context`` names earlier turns: it should be high on follow-ups and
low on switches.

Sets: ``gold`` (``eval/gold/conversations.jsonl``, about the project's corpus) and
``xquad-vi`` / ``xquad-en`` (synthetic, :mod:`eval.chat_xquad`, over the Vietnamese
XQuAD paragraphs indexed as ``python -m eval xquad`` does), where each follow-up's
subject was replaced by a pronoun: the question as XQuAD asks it (``original``) is
also answered alone, the ceiling history can reach.

Latency: wall-clock per ``index.answer`` call, warm (one question answered first),
p50 over the turns that have a history (on a first turn both calls are the same).
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from index.answer import answer

from .gold import text_problems
from .metrics import is_hit, percentiles, ratio
from .report import fmt, table
from .xquad import spread

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "out"
GOLD_CONVERSATIONS = ROOT / "eval" / "gold" / "conversations.jsonl"
XQUAD_DATA = ROOT.parent / "shared" / "benchmarks" / "xquad"
KINDS = ("first", "follow-up", "switch", "return")
SETS = ("gold", "xquad-vi", "xquad-en")
MODES = ("with_history", "alone")
REQUIRED = ("conversation", "turn", "kind", "lang", "question", "answers", "source")
WARMUP = "Hội thảo diễn ra ở đâu?"
LISTED = 30  # changed turns listed in the report, per direction


def validate(rows: list[dict]) -> list[str]:
    """Problems of conversation turns (empty when fine): fields, kinds, turn numbering, one split per conversation."""
    problems = []
    for n, row in enumerate(rows, 1):
        where = f"line {n}"
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
            continue
        if row["kind"] not in KINDS:
            problems.append(f"{where}: kind must be one of {', '.join(KINDS)}")
        if (row["kind"] == "first") != (row["turn"] == 1):
            problems.append(f"{where}: the kind 'first' is the first turn's, and only its")
        problems += text_problems(row, where)
        answers = row["answers"]
        if not isinstance(answers, list) or not answers or not all(isinstance(a, str) and a.strip() for a in answers):
            problems.append(f"{where}: answers must be a non-empty list of non-empty strings")
        if not isinstance(row["source"], str) or not row["source"]:
            problems.append(f"{where}: source must be an article file name")
        if row.get("split") not in (None, "dev", "test"):
            problems.append(f"{where}: split must be 'dev' or 'test'")
    for conv, turns in _grouped(rows).items():
        if [t.get("turn") for t in turns] != list(range(1, len(turns) + 1)):
            problems.append(f"conversation {conv}: turns must be numbered 1, 2, ... in order")
        if len({t.get("split") for t in turns}) > 1:
            problems.append(f"conversation {conv}: its turns are in different splits")
    return problems


def _grouped(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row.get("conversation"), []).append(row)
    return out


def conversations(rows: list[dict], split: str = "all") -> list[list[dict]]:
    """Validated turns grouped by conversation (file order), only those of ``split``; ValueError when malformed."""
    problems = validate(rows)
    if problems:
        raise ValueError("; ".join(problems[:10]))
    return [turns for turns in _grouped(rows).values() if split == "all" or turns[0].get("split") == split]


def load_conversations(path: Path, split: str = "all") -> list[list[dict]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    try:
        rows = [json.loads(line) for line in lines if line.strip()]
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON ({exc.msg})") from exc
    try:
        return conversations(rows, split)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def score(d: dict, ms: float, turn: dict) -> dict:
    top = d["citations"][0] if d.get("citations") and not d["abstained"] else None
    return {
        "answer": d,
        "source_at_1": top is not None and top["source"] == turn["source"],
        "hit": top is not None and is_hit(False, top["quote"], top["source"], turn["answers"], turn["source"]),
        "ms": ms,
    }


def ask(engine, question: str, history: list[dict] | None, id: str) -> tuple[dict, float]:
    t0 = time.perf_counter()
    d = answer(engine, question, history=history, id=id).to_dict()
    return d, (time.perf_counter() - t0) * 1000


def run(engine, convs: list[list[dict]], name: str, progress: bool = True) -> list[dict]:
    """Answer every turn of ``convs`` with history and alone (and its ``original`` alone); one row per turn."""
    answer(engine, WARMUP)
    rows = []
    bar = tqdm(total=sum(len(c) for c in convs), desc=f"chat {name}", disable=not progress, file=sys.stderr)
    for turns in convs:
        history: list[dict] = []
        for turn in turns:
            id = f"{turn['conversation']}-{turn['turn']}"
            # The two calls alternate in order so neither always runs right after the other.
            order = MODES if turn["turn"] % 2 else MODES[::-1]
            asked = {mode: ask(engine, turn["question"], list(history) if mode == "with_history" else None, id)
                     for mode in order}
            row = {"set": name, "split": turn.get("split"), "history": len(history),
                   **{k: turn[k] for k in REQUIRED}}
            row.update({mode: score(*asked[mode], turn) for mode in MODES})
            if "original" in turn:
                row["original"] = turn["original"]
                row["original_alone"] = (row["alone"] if turn["original"] == turn["question"]
                                         else score(*ask(engine, turn["original"], None, id), turn))
            history.append(asked["with_history"][0])
            rows.append(row)
            bar.update()
    bar.close()
    return rows


def _rate(rows: list[dict], mode: str, key: str) -> float | None:
    scored = [r[mode][key] for r in rows if mode in r]
    return sum(scored) / len(scored) if scored else None


def summarise(rows: list[dict]) -> dict:
    """summary[set] = {conversations, turns, kinds: {kind | "all": metrics}, latency_ms}."""
    out = {}
    for name in dict.fromkeys(r["set"] for r in rows):
        mine = [r for r in rows if r["set"] == name]
        kinds = {}
        for kind in KINDS + ("all",):
            part = [r for r in mine if kind in ("all", r["kind"])]
            if not part:
                continue
            m: dict = {"n": len(part)}
            for mode in MODES:
                m[f"source_at_1_{mode}"] = _rate(part, mode, "source_at_1")
                m[f"hit_{mode}"] = _rate(part, mode, "hit")
            m["hit_original"] = _rate(part, "original_alone", "hit")
            # None until index.answer reports the turns it used.
            known = [r["with_history"]["answer"]["context"] for r in part if "context" in r["with_history"]["answer"]]
            m["history_used"] = sum(bool(c) for c in known) / len(known) if known else None
            kinds[kind] = m
        later = [r for r in mine if r["history"]]
        with_history = percentiles([r["with_history"]["ms"] for r in later], (50,))["p50"]
        alone = percentiles([r["alone"]["ms"] for r in later], (50,))["p50"]
        out[name] = {"conversations": len({r["conversation"] for r in mine}), "turns": len(mine), "kinds": kinds,
                     "latency_ms": {"turns": len(later), "with_history_p50": with_history, "alone_p50": alone,
                                    "ratio": ratio(with_history, alone)}}
    return out


def answers_table(summary: dict) -> str:
    headers = ["set", "turn kind", "n", "source@1 with history", "hit with history", "source@1 alone", "hit alone",
               "hit: history − alone (pp)", "hit: original question alone", "history used"]
    rows = []
    for name, s in summary.items():
        for kind, m in s["kinds"].items():
            gain = None if m["hit_with_history"] is None else 100 * (m["hit_with_history"] - m["hit_alone"])
            rows.append([name, kind, m["n"], fmt(m["source_at_1_with_history"], True), fmt(m["hit_with_history"], True),
                         fmt(m["source_at_1_alone"], True), fmt(m["hit_alone"], True),
                         "–" if gain is None else f"{gain:+.1f}", fmt(m["hit_original"], True),
                         fmt(m["history_used"], True)])
    return table(headers, rows)


def latency_table(summary: dict) -> str:
    rows = [[name, s["latency_ms"]["turns"], fmt(s["latency_ms"]["with_history_p50"]),
             fmt(s["latency_ms"]["alone_p50"]), fmt(s["latency_ms"]["ratio"], digits=2)] for name, s in summary.items()]
    return table(["set", "turns with a history", "p50 with history (ms)", "p50 alone (ms)", "ratio"], rows)


def _changed(rows: list[dict], gained: bool) -> list[str]:
    picked = [r for r in rows if r["with_history"]["hit"] == gained and r["alone"]["hit"] != gained]
    out = []
    for r in picked[:LISTED]:
        d = r["with_history"]["answer"]
        used = ", ".join(str(c["turn"]) for c in d.get("context", [])) or "none"
        quote = " ".join((d.get("answer") or "(abstained)").split())
        out.append(f"- **{r['conversation']}-{r['turn']}** ({r['kind']}, {r['lang']}) {r['question']}\n"
                   f"  - gold: {r['answers']} in `{r['source']}`; turns used: {used}\n"
                   f"  - with history: {quote[:240]}")
    if len(picked) > LISTED:
        out.append(f"- ... and {len(picked) - LISTED} more (results.jsonl)")
    return out


def write_report(out: Path, rows: list[dict], summary: dict, meta: dict) -> str:
    """results.jsonl, summary.json and report.md in ``out``; returns the tables (markdown)."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps({"meta": meta, "summary": summary}, ensure_ascii=False, indent=1),
                                      encoding="utf-8")
    tables = "## Answers by turn kind (%)\n\n" + answers_table(summary) + \
        "\n\n## Warm latency per answer\n\n" + latency_table(summary) + "\n"
    parts = [f"# Conversations: follow-up questions\n\n`{meta['command']}` — {meta['date']}; split {meta['split']}; "
             f"scorer {meta['scorer']}.\n\n",
             "Each conversation is answered turn by turn with history (the earlier turns' Answer JSON) and alone. "
             "source@1: the first citation is the gold article; hit: and its quote contains a gold answer (NFC, "
             "casefold, whitespace collapsed); abstaining misses both. Kinds: `first`; `follow-up` (same topic, "
             "often a pronoun or an ellipsis); `switch` (self-contained, another article); `return` (back to an "
             "earlier topic). Original question alone: the synthetic XQuAD turns as XQuAD asks them, with their "
             "subject. History used: answers whose `context` names earlier turns. Latency: wall-clock per "
             "`index.answer` call, p50 over the turns that have a history.\n\n",
             "Sets: " + "; ".join(f"`{name}` {info['conversations']} conversations, {info['turns']} turns "
                                  f"({info['from']})" for name, info in meta["sets"].items()) + ".\n\n",
             tables]
    for name in summary:
        mine = [r for r in rows if r["set"] == name]
        parts.append(f"\n## {name}: turns history changed\n\n### Hit with history, missed alone\n\n"
                     + ("\n".join(_changed(mine, True)) or "none") + "\n\n### Missed with history, hit alone\n\n"
                     + ("\n".join(_changed(mine, False)) or "none") + "\n")
    (out / "report.md").write_text("".join(parts), encoding="utf-8")
    return tables


def _set_conversations(name: str, args) -> tuple[list[list[dict]], str]:
    if name == "gold":
        return load_conversations(args.questions, args.split), str(args.questions)
    from .chat_xquad import load

    lang = name.split("-")[1]
    return conversations(load(args.data, lang, seed=args.seed), args.split), \
        f"XQuAD articles 0-23, {lang} questions over the vi paragraphs, seed {args.seed}"


def _engine(name: str, args):
    if name == "gold":
        from .run import prepare_engine

        return prepare_engine(args.corpus, args.index, progress=not args.quiet)
    from .xquad import engine_for

    return engine_for("vi", args.data, "vi", args.index_root, {}, args.quiet)[0]


def cmd_chat(args) -> int:
    names = SETS if args.set == "all" else (args.set,)
    rows, sets = [], {}
    engine, engine_of = None, None
    for name in names:
        convs, origin = _set_conversations(name, args)
        convs = spread(convs, args.limit)
        if not convs:
            print(f"{name}: no conversations in split {args.split}", file=sys.stderr)
            continue
        kind = "gold" if name == "gold" else "xquad"
        if engine_of != kind:
            engine = None  # one index (and model) in memory at a time
            engine, engine_of = _engine(name, args), kind
        rows += run(engine, convs, name, progress=not args.quiet)
        sets[name] = {"conversations": len(convs), "turns": sum(len(c) for c in convs), "from": origin,
                      "kinds": dict(Counter(t["kind"] for c in convs for t in c))}
    if not rows:
        print("no conversations to answer", file=sys.stderr)
        return 1
    meta = {"command": "python -m eval " + " ".join(sys.argv[1:]),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "split": args.split,
            "limit": args.limit, "scorer": engine.config.scorer, "sets": sets}
    summary = summarise(rows)
    print(write_report(Path(args.out), rows, summary, meta))
    print(f"wrote {args.out}/report.md, results.jsonl, summary.json")
    return 0


def add_parser(sub):
    p = sub.add_parser("chat", help="follow-up questions: every conversation answered with and without its history")
    p.add_argument("--set", choices=SETS + ("all",), default="gold",
                   help="gold conversations, synthetic XQuAD ones (vi or en questions), or all (default: %(default)s)")
    p.add_argument("--split", choices=["dev", "test", "all"], default="all",
                   help="conversations of this split (the XQuAD ones are all dev)")
    p.add_argument("--limit", type=int, help="N conversations per set, evenly spread")
    p.add_argument("--out", type=Path, default=OUT / "chat", help="output folder (default: %(default)s)")
    p.add_argument("--questions", type=Path, default=GOLD_CONVERSATIONS,
                   help="gold conversations (default: %(default)s)")
    p.add_argument("--corpus", type=Path, help="corpus of the gold set (default: the project's)")
    p.add_argument("--index", type=Path, help="its index, built/updated first (default: the project's)")
    p.add_argument("--data", type=Path, default=XQUAD_DATA, help="folder of xquad.vi.json and xquad.en.json")
    p.add_argument("--index-root", type=Path, default=OUT, help="XQuAD corpus and index, shared with `eval xquad`")
    p.add_argument("--seed", type=int, default=0, help="pairing of the synthetic conversations (default: %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_chat)
    return p
