"""Staff-only views outside the ModelAdmins."""

from __future__ import annotations

import uuid

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse

from .models import Upload
from .uploads import upload_response


@staff_member_required
def admin_upload_view(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponse:
    """Let staff see the images in the transcripts they review."""
    upload = Upload.objects.filter(id=upload_id).first()
    if upload is None:
        raise Http404("No such image.")
    return upload_response(upload)
