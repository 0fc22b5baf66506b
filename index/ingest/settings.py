"""Ingestion settings, taken from the ``Config`` (``QA_INGEST_*``; ``python -m index config`` lists them).

``QA_INGEST_MAX_BYTES``        largest article file or HTML page, and largest record text (default 5 MB)
``QA_INGEST_MAX_EXPORT_BYTES`` largest JSON / JSON lines / CSV export file (default 200 MB)
``QA_INGEST_FIELDS``           export field names, as JSON: ``{"text": "noi_dung", "title": "tieu_de"}``
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

# Which record fields fill which article fields; the first one present wins.
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "title": ("title",),
    "date": ("date",),
    "url": ("url",),
    "author": ("author",),
    "text": ("text", "body", "content"),
}
MAX_BYTES = 5_000_000  # a news article is a few KB; anything bigger is not one
MAX_EXPORT_BYTES = 200_000_000  # read whole (decoding may need every byte): bounded memory


@dataclass(frozen=True)
class Settings:
    max_bytes: int = MAX_BYTES
    max_export_bytes: int = MAX_EXPORT_BYTES
    fields: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_FIELDS))

    @classmethod
    def from_config(cls, config) -> "Settings":
        """The ingestion settings of a ``Config`` (which has already checked them)."""
        return cls(max_bytes=config.ingest_max_bytes, max_export_bytes=config.ingest_max_export_bytes,
                   fields=parse_fields(config.ingest_fields))


def parse_fields(raw: str) -> dict[str, tuple[str, ...]]:
    """The default field names, with those ``raw`` names (a JSON object: article field -> record field) instead."""
    fields = dict(DEFAULT_FIELDS)
    if not raw.strip():
        return fields
    try:
        mapping = json.loads(raw)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) and v for v in mapping.values()):
        raise ValueError(f'QA_INGEST_FIELDS={raw!r} must be a JSON object of field names, '
                         f'e.g. {{"text": "noi_dung", "title": "tieu_de"}}')
    unknown = set(mapping) - set(DEFAULT_FIELDS)
    if unknown:
        raise ValueError(f"QA_INGEST_FIELDS maps unknown fields {sorted(unknown)}; known: {sorted(DEFAULT_FIELDS)}")
    for name, column in mapping.items():
        fields[name] = (column,)
    return fields
