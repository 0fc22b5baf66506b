"""``python -m eval feedback``: the chat's votes as gold-question candidates for a person to review.

Each voted question (latest vote wins) becomes one line in the gold format, with
a ``review`` object saying what the vote implies and what is left to check:

* helpful, answered     -> ``answers`` = the highlighted span (or the quote), ``source`` = the cited article;
* helpful, abstained    -> an unanswerable question (``answers: []``, ``source: null``);
* not helpful, answered -> the quote was wrong: write the gold span and source (or keep it unanswerable);
* not helpful, abstained -> the articles probably answer it: write the gold span and source.

Lines whose question was rejected (empty, too long...) are skipped. The output
validates as a gold file (``load_gold``), so after review it can be appended to
``eval/gold/articles.jsonl`` as is.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from index import feedback

TODO = {
    ("helpful", True): "confirm the span is the short answer; trim it if the highlight is missing",
    ("helpful", False): "confirm the articles do not answer it",
    ("not_helpful", True): "the quote was judged wrong: write the gold span and source, or keep it unanswerable",
    ("not_helpful", False): "the articles probably answer it: write the gold span and source",
}


def candidate(record: dict) -> dict | None:
    """The gold-format line for one vote, or None when the vote cannot become a question."""
    question = record.get("question") or ""
    verdict = record.get("verdict")
    if record.get("error") or not question.strip() or verdict not in feedback.VERDICTS:
        return None
    cites = record.get("citations") or []
    answered = bool(cites) and not record.get("abstained")
    answers, source = [], None
    if verdict == "helpful" and answered:
        first = cites[0]
        span = first.get("quote") or ""
        h = first.get("highlight")
        if h and first.get("start") is not None and h["start"] >= first["start"]:
            span = span[h["start"] - first["start"]:h["end"] - first["start"]] or span
        answers, source = [span], first.get("source")
    qid = "fb-" + hashlib.sha1(question.encode("utf-8", "replace")).hexdigest()[:10]
    return {
        "id": qid, "lang": "vi" if record.get("language") == "vi" else "en", "question": question,
        "answers": answers, "source": source,
        "review": {"verdict": verdict, "answered": answered, "todo": TODO[(verdict, answered)],
                   "quote": cites[0].get("quote") if cites else None,
                   "cited_source": cites[0].get("source") if cites else None,
                   "timestamp": record.get("timestamp"), "model_id": record.get("model_id")},
    }


def candidates(records: list[dict]) -> list[dict]:
    """One candidate per distinct question, from its latest vote, in first-seen order."""
    latest: dict[str, dict] = {}
    for record in records:
        line = candidate(record)
        if line is not None:
            latest.pop(line["id"], None)  # re-insert: the latest vote's position is kept
            latest[line["id"]] = line
    return list(latest.values())


def cmd_feedback(args) -> int:
    log = Path(args.log)
    if not log.is_file():
        print(f"error: no feedback log at {log} (the chat writes it when users vote; FEEDBACK_LOG moves it)",
              file=sys.stderr)
        return 1
    records, bad = feedback.read(log)
    lines = candidates(records)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    by = {v: sum(1 for c in lines if c["review"]["verdict"] == v) for v in feedback.VERDICTS}
    print(f"{len(records)} votes ({bad} unreadable lines) -> {len(lines)} candidate questions "
          f"({by['helpful']} helpful, {by['not_helpful']} not helpful) in {out}")
    print("review each line (see its 'review.todo'), then append it to eval/gold/articles.jsonl")
    return 0
