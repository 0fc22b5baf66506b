"""Vietnamese text written in the legacy encodings, made from the ingest module's own decoding tables.

The tables themselves are checked against independent implementations in
``tests/test_ingest_encodings.py``; these encoders make the samples other tests read.
"""
from __future__ import annotations

import unicodedata

from index.ingest import encodings


def encode_bytes(text: str, table: str) -> bytes:
    """``text`` in a one-byte encoding whose decoding table (byte -> char) is ``table``."""
    inverse = {char: byte for byte, char in enumerate(table) if byte >= 0x80 or char != chr(byte)}
    return bytes(ord(c) if c.isascii() else inverse[c] for c in text)


def encode_vni(text: str) -> bytes:
    return "".join(encodings.VNI.get(c, c) for c in text).encode("cp1252")


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 as editors write it: ă â ê ô ơ ư đ precomposed, the tone a combining mark after it."""
    out = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        tone = "".join(c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tone))
        out.append(base + tone)
    return "".join(out).encode("cp1258")
