"""JSON request bodies that may be megabytes of base64 images, encoded in small slices.

``json.dumps`` escapes a string in one C call that holds the GIL throughout: about
6 ms per MB, so 120 ms for a body of 20 MB of images, during which no other thread (the
event loop's included) runs. Here each long string is escaped a slice at a time, so a
thread encoding a big body hands the GIL back every millisecond or so. The bytes are
exactly those of ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``.
"""

from __future__ import annotations

import json
from typing import Any

_SLICE = 256 * 1024  # characters escaped per call


def encode_json(value: Any) -> bytes:
    """Return ``value`` (dicts, lists, strings, numbers, booleans, None) as UTF-8 JSON."""
    parts: list[bytes] = []
    _encode(value, parts)
    return b"".join(parts)


def _encode(value: Any, parts: list[bytes]) -> None:
    if isinstance(value, str):
        _encode_string(value, parts)
    elif isinstance(value, dict):
        parts.append(b"{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            if index:
                parts.append(b",")
            _encode_string(key, parts)
            parts.append(b":")
            _encode(item, parts)
        parts.append(b"}")
    elif isinstance(value, (list, tuple)):
        parts.append(b"[")
        for index, item in enumerate(value):
            if index:
                parts.append(b",")
            _encode(item, parts)
        parts.append(b"]")
    else:  # numbers, booleans, None: short, and json.dumps refuses anything else
        parts.append(json.dumps(value, allow_nan=False).encode())


def _encode_string(text: str, parts: list[bytes]) -> None:
    if len(text) <= _SLICE:
        parts.append(json.dumps(text, ensure_ascii=False).encode())
        return
    parts.append(b'"')
    # Escaping is per character, so slices escape to exactly what the whole string would.
    for start in range(0, len(text), _SLICE):
        parts.append(json.dumps(text[start : start + _SLICE], ensure_ascii=False)[1:-1].encode())
    parts.append(b'"')
