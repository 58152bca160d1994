"""Environment helpers that fail loudly, in the style of healthchecks' ``hc/settings.py``."""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: str = "0") -> bool:
    """Return the boolean value of an environment variable; raise on anything unclear."""
    value = os.environ.get(name, default).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1 (got {value!r})")


def envint(name: str, default: str, *, minimum: int = 0) -> int:
    value = os.environ.get(name, "").strip() or default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ImproperlyConfigured(
            f"{name} must be a whole number of at least {minimum} (got {value!r})"
        )
    return number


def envoptint(name: str) -> int | None:
    """Return a positive whole number, or None when the variable is unset or empty."""
    if not os.environ.get(name, "").strip():
        return None
    return envint(name, "", minimum=1)


def envmoney(name: str) -> Decimal | None:
    """Return an amount of money such as ``250`` or ``19.90``; None when unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0:
        raise ImproperlyConfigured(f"{name} must be an amount such as 250 or 19.90 (got {value!r})")
    return amount.quantize(Decimal("0.01"))


def envmodels(name: str) -> list[str]:
    """Return a comma-separated list of catalog model ids, each checked against the catalog."""
    from chat.upstream.catalog import get_model

    models = envlist(name, "")
    unknown = [model for model in models if get_model(model) is None]
    if unknown:
        raise ImproperlyConfigured(f"{name} names models not in the catalog: {', '.join(unknown)}")
    return models


def envrate(name: str, default: str) -> str:
    """Return a rate such as ``20/minute`` (``limits``' notation), checked at start-up."""
    from limits import parse

    value = os.environ.get(name, "").strip() or default
    try:
        parse(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 20/minute or 100/hour (got {value!r})"
        ) from None
    return value


def envlist(name: str, default: str) -> list[str]:
    """Return a comma-separated environment variable as a list of non-empty items."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envdays(name: str) -> int | None:
    """Return a whole number of days from an environment variable; None when unset, empty
    or 0 (off). Raise on anything else but a positive whole number."""
    value = os.environ.get(name, "").strip() or "0"
    if not (value.isascii() and value.isdigit()):
        raise ImproperlyConfigured(f"{name} must be a whole number of days (got {value!r})")
    return int(value) or None


def load_secret_key(var_dir: Path) -> str:
    """Return DJANGO_SECRET_KEY, or a key generated once and kept in var/secret_key (0600)."""
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    path = var_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: when two processes start at once, one writes and the other reads its key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def bundled_redis_socket(var_dir: Path) -> Path:
    """Return the Unix socket path of the bundled Redis server for this checkout."""
    path = var_dir / "redis" / "redis.sock"
    if len(str(path)) > 100:  # sun_path holds 108 bytes; deep checkouts use /tmp instead
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"ponder-redis-{digest}.sock"
    return path


def celery_broker_url(redis_url: str) -> str:
    """Return the Celery spelling of a Redis URL (kombu names Unix sockets ``redis+socket``)."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


def media_storage(value: str, media_root: Path) -> dict[str, Any]:
    """Return the ``STORAGES["default"]`` entry for ``PONDER_MEDIA_STORAGE``; raise on a bad one.

    ``local`` keeps uploads under ``media_root``; ``database`` keeps them in the database
    (web and worker processes then share no disk); ``s3://bucket/prefix`` keeps them in any
    S3-compatible store, reached with the standard ``AWS_*`` variables. Uploads are always
    streamed through Ponder's views, so S3 objects stay private and unsigned URLs are never
    handed out.
    """
    value = value.strip()
    if value == "local":
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media_root)},
        }
    if value == "database":
        return {"BACKEND": "chat.uploads.storage.DatabaseStorage"}
    parsed = urlsplit(value)
    if parsed.scheme == "s3" and parsed.netloc and not (parsed.query or parsed.fragment):
        options: dict[str, Any] = {
            "bucket_name": parsed.netloc,
            "location": parsed.path.strip("/"),
            "default_acl": "private",
            "querystring_auth": False,
            "file_overwrite": False,
        }
        for option, variable in (
            ("endpoint_url", "AWS_S3_ENDPOINT_URL"),
            ("access_key", "AWS_ACCESS_KEY_ID"),
            ("secret_key", "AWS_SECRET_ACCESS_KEY"),
            ("region_name", "AWS_S3_REGION_NAME"),
        ):
            if os.environ.get(variable):
                options[option] = os.environ[variable]
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    raise ImproperlyConfigured(
        f"PONDER_MEDIA_STORAGE must be 'local', 'database' or 's3://bucket/prefix' (got {value!r})"
    )
