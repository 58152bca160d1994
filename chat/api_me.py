"""``GET /api/me/``: who is logged in, and what is left of their monthly allowance."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from .http import json_api
from .quota import get_quota


@require_GET
@json_api
def me_view(request: HttpRequest) -> JsonResponse:
    user = request.user
    return JsonResponse(
        {
            "username": user.get_username(),
            "is_staff": user.is_staff,
            "quota": get_quota(user).as_json(),
        }
    )
