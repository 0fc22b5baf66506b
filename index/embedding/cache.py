"""The converted model's folder in the cache: its sha256 manifest, verification, locking.

``manifest.json`` lists every file with its sha256 and size. A full checksum
pass runs once; afterwards a file whose size, mtime and inode are unchanged
since it last verified is trusted (``.verified.json``), so start-up does not
re-hash half a gigabyte.
"""
from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from ..files import atomic_write_text, file_lock, sha256_file

MANIFEST = "manifest.json"
VERIFIED = ".verified.json"  # stat stamps of the last full checksum pass (not part of the manifest)


def lock(models_dir: Path):
    """The one lock under which conversions and exports write into ``models_dir``."""
    return file_lock(Path(models_dir) / ".convert.lock")


def file_entries(root: Path, rels: list[str]) -> dict[str, dict[str, Any]]:
    return {rel: {"sha256": sha256_file(root / rel), "size": (root / rel).stat().st_size} for rel in sorted(rels)}


def all_files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*")
        if p.is_file() and p.name not in (MANIFEST, VERIFIED) and not p.name.startswith(".tmp")
    )


def read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(Path(root) / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _stat_key(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def verify(root: Path, entries: dict[str, dict[str, Any]]) -> bool:
    """True when every listed file exists with its recorded checksum."""
    root = Path(root)
    try:
        stamps = json.loads((root / VERIFIED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stamps = {}
    changed = False
    for rel, meta in entries.items():
        path = root / rel
        try:
            key = _stat_key(path)
        except OSError:
            return False
        if key[0] != meta["size"]:
            return False
        if stamps.get(rel) == [meta["sha256"], *key]:
            continue
        if sha256_file(path) != meta["sha256"]:
            return False
        stamps[rel] = [meta["sha256"], *key]
        changed = True
    if changed:
        with contextlib.suppress(OSError):
            atomic_write_text(root / VERIFIED, json.dumps(stamps, sort_keys=True))
    return True
