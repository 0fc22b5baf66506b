"""Gold question files (JSON lines): loading, validation and the language groups."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from index.text import has_diacritics

GROUPS = ("all", "vi", "unaccented", "en")
REQUIRED = ("id", "lang", "question", "answers", "source")


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    lang: str
    question: str
    answers: tuple[str, ...]
    source: str | None
    split: str | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def group(self) -> str:
        """'en', 'unaccented' (Vietnamese typed without diacritics) or 'vi' (accented Vietnamese)."""
        if self.lang != "vi":
            return "en"
        return "vi" if has_diacritics(self.question) else "unaccented"

    def in_group(self, group: str) -> bool:
        return group == "all" or self.group == group


def text_problems(row: dict, where: str) -> list[str]:
    """Problems of the fields every gold line has, conversation turns too: language and question."""
    problems = []
    if row["lang"] not in ("vi", "en"):
        problems.append(f"{where}: lang must be 'vi' or 'en'")
    if not isinstance(row["question"], str) or not row["question"].strip():
        problems.append(f"{where}: empty question")
    return problems


def validate_row(row: object, line: int) -> list[str]:
    """Format problems of one gold line (empty when it is fine)."""
    where = f"line {line}"
    if not isinstance(row, dict):
        return [f"{where}: not a JSON object"]
    problems = [f"{where}: missing key {k!r}" for k in REQUIRED if k not in row]
    if problems:
        return problems
    if not isinstance(row["id"], str) or not row["id"]:
        problems.append(f"{where}: id must be a non-empty string")
    problems += text_problems(row, where)
    answers = row["answers"]
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        problems.append(f"{where}: answers must be a list of non-empty strings")
    elif answers and not (isinstance(row["source"], str) and row["source"]):
        problems.append(f"{where}: an answerable question needs a source")
    elif not answers and row["source"] is not None:
        problems.append(f"{where}: an unanswerable question has source null")
    if "split" in row and row["split"] not in ("dev", "test"):
        problems.append(f"{where}: split must be 'dev' or 'test'")
    return problems


def load_gold(path: Path, split: str = "all") -> list[GoldQuestion]:
    """Questions of ``path`` (all, or one split); raises ValueError on a malformed file."""
    out: list[GoldQuestion] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: invalid JSON ({exc.msg})")
            continue
        found = validate_row(row, n)
        if not found and row["id"] in seen:
            found = [f"line {n}: duplicate id {row['id']!r}"]
        problems += found
        if found:
            continue
        seen.add(row["id"])
        out.append(GoldQuestion(
            id=row["id"], lang=row["lang"], question=row["question"], answers=tuple(row["answers"]),
            source=row["source"], split=row.get("split"),
            extra={k: v for k, v in row.items() if k not in REQUIRED and k != "split"}))
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems[:10]))
    if split != "all":
        out = [q for q in out if q.split == split]
    return out
