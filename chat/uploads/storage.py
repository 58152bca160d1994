"""A Django storage that keeps files in the database, for processes that share no disk.

``PONDER_MEDIA_STORAGE=database`` selects it (see ``config.env.media_storage``). Uploads
are at most a few megabytes and always read whole (to validate, serve or send upstream),
so one row per file holding its bytes is enough. Files are private: there is no URL.
"""

from __future__ import annotations

import os.path
from typing import Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.utils.deconstruct import deconstructible

from chat.models import StoredFile


@deconstructible(path="chat.uploads.storage.DatabaseStorage")
class DatabaseStorage(Storage):
    """Files as ``StoredFile`` rows: names are unique, content is written once."""

    def _open(self, name: str, mode: str = "rb") -> File[bytes]:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("DatabaseStorage files are written with save(), not opened to write")
        row = StoredFile.objects.filter(name=name).values_list("content", flat=True).first()
        if row is None:
            raise FileNotFoundError(f"no stored file named {name!r}")
        return ContentFile(bytes(row), name=name)

    def _save(self, name: str, content: File[Any]) -> str:
        data = b"".join(c if isinstance(c, bytes) else c.encode() for c in content.chunks())
        while True:
            try:
                with transaction.atomic():
                    StoredFile.objects.create(name=name, content=data, size=len(data))
            except IntegrityError:
                # Another process took this name since get_available_name(): pick another.
                root, ext = os.path.splitext(name)
                name = self.get_alternative_name(root, ext)
                continue
            return name

    def exists(self, name: str) -> bool:
        return StoredFile.objects.filter(name=name).exists()

    def delete(self, name: str) -> None:
        StoredFile.objects.filter(name=name).delete()

    def size(self, name: str) -> int:
        size = StoredFile.objects.filter(name=name).values_list("size", flat=True).first()
        if size is None:
            raise FileNotFoundError(f"no stored file named {name!r}")
        return size

    def url(self, name: str | None) -> str:
        raise NotImplementedError("uploads are private: serve them through a view")
