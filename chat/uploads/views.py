"""Upload endpoints: the owner's upload and file views, and staff access for transcripts."""

from __future__ import annotations

import uuid

from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from chat.http import AuthenticatedHttpRequest, json_api
from chat.models import Upload

from .images import access_upload, attachment_json, store_upload, upload_response


@staff_member_required
def admin_upload_view(request: HttpRequest, upload_id: uuid.UUID) -> FileResponse:
    """Let staff see the images in the transcripts they review."""
    upload = Upload.objects.filter(id=upload_id).first()
    if upload is None:
        raise Http404("No such image.")
    return upload_response(upload)


@require_POST
@json_api
def upload_view(request: AuthenticatedHttpRequest) -> JsonResponse:
    upload = store_upload(request.user, request.FILES.get("file"))
    return JsonResponse(attachment_json(upload), status=201)


@require_GET
@json_api
def upload_file_view(request: AuthenticatedHttpRequest, upload_id: uuid.UUID) -> FileResponse:
    return upload_response(access_upload(request.user, upload_id))
