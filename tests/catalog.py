"""A translation catalog written on the spot, to test what people read in another language.

``install_catalog(settings, tmp_path, "ja", {...})`` writes a compiled catalog (the GNU
``.mo`` format Python's ``gettext`` reads) under ``tmp_path`` and points LOCALE_PATHS
there; changing the setting makes Django load catalogs afresh. A key
``"context\\x04text"`` is a text with a context (``pgettext``).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

HEADER = "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=1; plural=0;\n"


def mo_bytes(entries: dict[str, str]) -> bytes:
    messages = sorted({"": HEADER, **entries}.items())
    originals = [key.encode() for key, _ in messages]
    translations = [value.encode() for _, value in messages]
    table_start = 7 * 4
    data_start = table_start + 16 * len(messages)
    tables, data = b"", b""
    for strings in (originals, translations):
        for string in strings:
            tables += struct.pack("<2I", len(string), data_start + len(data))
            data += string + b"\0"
    header = struct.pack(
        "<7I",
        0x950412DE,  # magic
        0,  # revision
        len(messages),
        table_start,  # where the originals' table starts
        table_start + 8 * len(messages),  # where the translations' table starts
        0,  # no hash table
        0,
    )
    return header + tables + data


def install_catalog(settings: Any, root: Path, language: str, entries: dict[str, str]) -> None:
    folder = root / language / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "django.mo").write_bytes(mo_bytes(entries))
    settings.LOCALE_PATHS = [root]
