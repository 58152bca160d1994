"""Image uploads: validate what a file really is, store it privately, hand it upstream."""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext
from PIL import Image, UnidentifiedImageError

from accounts.models import User
from chat.errors import BadRequest, NotFound, PayloadTooLarge
from chat.models import Upload

from .downscale import downscale, is_oversized

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 36_000_000  # beyond this, a "small" file is a decompression bomb
MAX_ATTACHMENTS = 10
MAX_VIDEO_FRAMES = 32
# What Pillow says a file is → the one content type we accept for it.
ACCEPTED_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
CONTENT_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}


# What Pillow raises for a file it cannot read (after Image.verify(), decoding may still fail).
_UNREADABLE = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    Image.DecompressionBombError,
)


def identify_image(data: bytes) -> tuple[str, int, int]:
    """Return (content type, width, height) of an accepted image; raise BadRequest otherwise."""
    import io

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise BadRequest(
                    gettext("The image has too many pixels."), code="image_too_large", field="file"
                )
            image.verify()  # parses the whole file: truncated or corrupt images fail here
            fmt, width, height = image.format, image.width, image.height
    except _UNREADABLE:
        raise BadRequest(
            gettext("The file is not a readable image."), code="invalid_image", field="file"
        ) from None
    if fmt not in ACCEPTED_FORMATS:
        raise BadRequest(
            gettext("Only PNG, JPEG, WEBP and GIF images are accepted."),
            code="unsupported_type",
            field="file",
        )
    return ACCEPTED_FORMATS[fmt], width, height


def store_upload(user: User, file: UploadedFile[bytes] | None) -> Upload:
    """Validate an uploaded image and keep it for its owner."""
    if file is None:
        raise BadRequest(
            gettext("Send the image in the multipart field 'file'."), code="required", field="file"
        )
    assert file.size is not None  # Django's upload handlers always set it
    if file.size > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            gettext("Images can be at most %(limit)s MB.")
            % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)},
            field="file",
        )
    data = file.read()
    content_type, width, height = identify_image(data)
    claimed = (file.content_type or "").lower()
    claimed = CONTENT_TYPE_ALIASES.get(claimed, claimed)
    if claimed and claimed != "application/octet-stream" and claimed != content_type:
        raise BadRequest(
            gettext("The file claims to be %(claimed)s but is %(actual)s.")
            % {"claimed": claimed, "actual": content_type},
            code="type_mismatch",
            field="file",
        )
    if is_oversized(width, height):
        try:
            data, width, height = downscale(data)
        except _UNREADABLE:
            raise BadRequest(
                gettext("The file is not a readable image."), code="invalid_image", field="file"
            ) from None
    upload = Upload(
        owner=user, content_type=content_type, size=len(data), width=width, height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )  # fmt: skip
    upload.file.save(upload.id.hex, ContentFile(data), save=False)
    upload.save()
    return upload


def access_upload(user: User, upload_id: uuid.UUID) -> Upload:
    """Return the user's upload, or raise NotFound."""
    try:
        return Upload.objects.get(id=upload_id, owner=user)
    except Upload.DoesNotExist:
        raise NotFound("upload") from None


def uploads_to_attach(user: User, upload_ids: list[uuid.UUID]) -> list[Upload]:
    """Return the user's unattached uploads with these ids, in order; raise BadRequest."""
    if not upload_ids:
        return []
    if len(set(upload_ids)) != len(upload_ids):
        raise BadRequest(
            gettext("An image is attached twice."), code="duplicate", field="attachments"
        )
    found = {
        u.id: u for u in Upload.objects.filter(id__in=upload_ids, owner=user, message__isnull=True)
    }
    if len(found) != len(upload_ids):
        raise BadRequest(
            gettext("An attachment does not exist or is already used."),
            code="unknown_attachment",
            field="attachments",
        )
    uploads = [found[upload_id] for upload_id in upload_ids]
    check_request_size(uploads)
    return uploads


def request_image_cap() -> int:
    """Return how many base64 bytes of images one upstream request may carry."""
    return int(settings.MAX_REQUEST_IMAGE_BYTES)


def encoded_size(upload: Upload) -> int:
    """Return the length of the upload's data URL (an oversized legacy upload: before shrinking)."""
    return len(data_url_prefix(upload)) + 4 * -(-upload.size // 3)


def check_request_size(uploads: list[Upload]) -> None:
    """Raise BadRequest when one message's images are more than a request may carry."""
    total, cap = sum(encoded_size(u) for u in uploads), request_image_cap()
    if total > cap:
        raise BadRequest(
            gettext(
                "These images come to %(total)s MB once encoded; one message can carry "
                "at most %(limit)s MB. Attach fewer or smaller images."
            )
            % {"total": f"{total / 1e6:.1f}", "limit": f"{cap / 1e6:.1f}"},
            code="attachments_too_large",
            field="attachments",
        )


class AttachmentUnavailable(Exception):
    """An upload's stored bytes are missing, unreadable or not the bytes that were uploaded."""


def open_upload(upload: Upload) -> File[bytes]:
    """Open an upload's bytes through the configured storage (never a filesystem path)."""
    if not upload.file.name:
        raise FileNotFoundError(f"upload {upload.id} has no stored file")
    return upload.file.storage.open(upload.file.name, "rb")


def read_upload(upload: Upload) -> bytes:
    """Return an upload's bytes, checked against the digest taken when it was stored.

    Raise AttachmentUnavailable when the storage cannot give them back (a missing object,
    an unreachable store) or gives back something else.
    """
    try:
        with open_upload(upload) as handle:
            data = handle.read()
    except Exception as exc:
        raise AttachmentUnavailable(
            f"upload {upload.id} ({upload.file.name}) unreadable: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(data, bytes) or hashlib.sha256(data).hexdigest() != upload.sha256:
        raise AttachmentUnavailable(f"upload {upload.id} ({upload.file.name}) is corrupt")
    return data


def upload_response(upload: Upload) -> FileResponse:
    """Serve an upload inline; the sandbox CSP keeps a crafted file from running anything."""
    try:
        handle = open_upload(upload)
    except Exception:
        logger.warning("upload %s: stored file unreadable", upload.id, exc_info=True)
        raise NotFound("upload") from None
    response = FileResponse(handle, content_type=upload.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# Encoding in slices hands the GIL back between them: a worker thread encoding a 10 MB
# image never holds the event loop's thread up for more than a few milliseconds.
_B64_SLICE = 3 * 256 * 1024


def data_url_prefix(upload: Upload) -> str:
    return f"data:{upload.content_type};base64,"


def data_url(upload: Upload) -> str:
    """Return the image as a base64 data URL: uploads are not reachable from Model Studio.

    CPU-bound for large images: call it off the event loop. An upload stored before
    uploads were downscaled is downscaled here (its stored file stays as it is). Raise
    AttachmentUnavailable when the stored image cannot be read back intact.
    """
    data = read_upload(upload)
    if is_oversized(upload.width, upload.height):
        try:
            data = downscale(data)[0]
        except _UNREADABLE as exc:
            raise AttachmentUnavailable(f"upload {upload.id} cannot be downscaled: {exc}") from exc
    view = memoryview(data)
    encoded = b"".join(
        base64.b64encode(view[start : start + _B64_SLICE])
        for start in range(0, len(data), _B64_SLICE)
    )
    return data_url_prefix(upload) + encoded.decode("ascii")


def attachment_json(upload: Upload) -> dict[str, object]:
    return {
        "id": str(upload.id),
        "url": f"/api/uploads/{upload.id}/file/",
        "content_type": upload.content_type,
        "size": upload.size,
        "width": upload.width,
        "height": upload.height,
        "video_frame": upload.is_video_frame,
    }
