"""What ingestion did besides producing articles: lines removed, inputs skipped, files converted."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Removal:
    source: str
    line: str
    reason: str


@dataclass
class Skipped:
    source: str  # a file name, or "<file>:<line>" / "<file>[<n>]" for one record of an export
    reason: str


@dataclass
class Converted:
    source: str
    encoding: str  # the legacy encoding the file was converted from, e.g. "TCVN3"


@dataclass
class CorpusReport:
    removed: list[Removal] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    converted: list[Converted] = field(default_factory=list)

    def skip(self, source: str, reason: str) -> None:
        self.skipped.append(Skipped(source, reason))

    def summary(self) -> str:
        counts = Counter(r.reason for r in self.removed)
        parts = [f"{n} {reason}" for reason, n in sorted(counts.items())]
        text = f"removed {len(self.removed)} lines" + (f" ({', '.join(parts)})" if parts else "")
        if self.converted:
            files = ", ".join(f"{c.source} from {c.encoding}" for c in self.converted)
            text += f"; converted to Unicode: {files}"
        return text
