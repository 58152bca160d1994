"""Share links: the owner's JSON API (docs/api.md) and the public read-only page."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from chat.audit import Action, record
from chat.http import (
    AuthenticatedHttpRequest,
    error_page,
    get_bool,
    get_int,
    iso,
    json_api,
    parse_json_object,
)
from chat.models import ShareLink
from chat.uploads.images import upload_response

from . import services as sharing

# The page runs only its own static scripts (KaTeX for math, highlight.js for code), which
# style through the DOM: no inline script or style, no connection anywhere.
SHARE_PAGE_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "font-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SHARE_PAGE_HEADERS = {
    "Content-Security-Policy": SHARE_PAGE_CSP,
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    # Revoking must work at once: no shared cache may keep a copy.
    "Cache-Control": "no-store",
}


def share_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("share_page", args=[token]))


def share_link_json(request: HttpRequest, link: ShareLink) -> dict[str, Any]:
    """Describe a link for its owner's list; ``url`` is null for an old random token."""
    token = sharing.link_token(link)
    return {
        "id": str(link.id),
        "url": share_url(request, token) if token is not None else None,
        "short_id": str(link.id)[:8],
        "include_reasoning": link.include_reasoning,
        "created_at": iso(link.created_at),
        "snapshot_at": iso(link.snapshot_at),
        "expires_at": iso(link.expires_at),
        "view_count": link.view_count,
        "message_count": len(link.message_ids),
    }


def record_share(action: Action, request: HttpRequest, link: ShareLink) -> None:
    """Audit a link's life: the owner is the conversation's, whoever made or opened it."""
    record(
        action,
        request=request,
        target_type="share",
        target_id=link.id,
        target_owner=link.conversation.owner,
        conversation=str(link.conversation_id),
    )


@require_http_methods(["GET", "POST"])
@json_api
def conversation_shares_view(
    request: AuthenticatedHttpRequest, conversation_id: uuid.UUID
) -> JsonResponse:
    if request.method == "GET":
        links = sharing.list_shares(request.user, conversation_id)
        return JsonResponse({"results": [share_link_json(request, link) for link in links]})
    body = parse_json_object(request)
    created = sharing.create_share(
        request.user,
        conversation_id,
        include_reasoning=bool(get_bool(body, "include_reasoning")),
        expires_in_days=get_int(body, "expires_in_days"),  # its range: 404 first
    )
    record_share(Action.SHARE_CREATED, request, created.link)
    answer = {
        "token": created.token,
        "include_reasoning": created.link.include_reasoning,
        "expires_at": iso(created.link.expires_at),
        **share_link_json(request, created.link),
        "url": share_url(request, created.token),
    }
    return JsonResponse(answer, status=201)


@require_http_methods(["DELETE"])
@json_api
def share_view(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    record_share(Action.SHARE_REVOKED, request, sharing.revoke_share(request.user, token))
    return HttpResponse(status=204)


@require_http_methods(["DELETE"])
@json_api
def share_link_view(request: AuthenticatedHttpRequest, link_id: uuid.UUID) -> HttpResponse:
    link = sharing.revoke_share_by_id(request.user, link_id)
    record_share(Action.SHARE_REVOKED, request, link)
    return HttpResponse(status=204)


@require_GET
@error_page("share/not_found.html", SHARE_PAGE_HEADERS)
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show a shared snapshot to anyone with the link; a dead link is a plain 404."""
    link = sharing.resolve_share(token)
    sharing.count_view(link)
    record_share(Action.SHARE_VIEWED, request, link)
    context = {"shared": sharing.shared_conversation(link), "token": token}
    response = render(request, "share/page.html", context)
    for header, value in SHARE_PAGE_HEADERS.items():
        response.headers[header] = value
    return response


@require_GET
@error_page("share/not_found.html")
def share_image(request: HttpRequest, token: str, upload_id: uuid.UUID) -> FileResponse:
    """Serve an image of a shared snapshot to anyone holding the link."""
    upload = sharing.shared_upload(sharing.resolve_share(token), upload_id)
    response = upload_response(upload)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
