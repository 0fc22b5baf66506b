"""The chat's feedback log: one JSON line per vote (question, answer, citations, verdict).

``python -m eval feedback`` turns the log into gold-question candidates, so what
users flag in the chat ends up in the evaluation after a person reviews it.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

VERDICTS = ("helpful", "not_helpful")
CITATION_FIELDS = ("n", "source", "title", "date", "quote", "start", "end", "score", "highlight")
_LOCK = threading.Lock()


def make_record(answer: dict, verdict: str, model_id: str) -> dict:
    """The log line for a vote on ``answer`` (an Answer JSON)."""
    return {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "verdict": verdict,
        "question": answer.get("question", ""),
        "language": answer.get("language"),
        "abstained": answer.get("abstained"),
        "answer": answer.get("answer", ""),
        "message": answer.get("message", ""),
        "citations": [{k: c.get(k) for k in CITATION_FIELDS} for c in answer.get("citations", [])],
        "error": answer.get("error"),
        "model_id": model_id,
    }


def append(path: Path, record: dict) -> Path:
    """Append one line; concurrent votes in one process never interleave."""
    path = Path(path)
    # Unencodable characters (lone surrogates of a rejected question) become "?".
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _LOCK:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8", errors="replace") as f:
            f.write(line)
    return path


def read(path: Path) -> tuple[list[dict], int]:
    """(records, number of lines that were not valid JSON objects)."""
    records, bad = [], 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(row, dict):
                records.append(row)
            else:
                bad += 1
    return records, bad
