"""Login throttling with django-axes: two limits, and a readable 429 page."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def locked_out_message(minutes: int) -> str:
    message = ngettext(
        "Too many failed sign-in attempts. Sign-in is paused for %(minutes)s minute; "
        "an administrator can lift it sooner.",
        "Too many failed sign-in attempts. Sign-in is paused for %(minutes)s minutes; "
        "an administrator can lift it sooner.",
        minutes,
    )
    return message % {"minutes": minutes}


class PonderAxesHandler(AxesDatabaseHandler):
    """axes' database handler with a separate, higher limit per client address.

    axes compares one number with ``AXES_FAILURE_LIMIT``: the largest failure count over
    its lockout parameters (here ``username``, then ``ip_address``). The address count is
    scaled so that it reaches ``AXES_FAILURE_LIMIT`` exactly at ``LOGIN_IP_FAILURE_LIMIT``.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        per_username, per_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        user_limit: int = settings.AXES_FAILURE_LIMIT
        address_limit: int = settings.LOGIN_IP_FAILURE_LIMIT
        # floor(a * U / A) >= U  <=>  a >= A
        return max(per_username, per_address * user_limit // address_limit)

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """On success forget that user's failures only, not everyone's from that address.

        axes would delete every attempt from the address too, letting anyone with an
        account wipe the counts of whoever they are guessing at from the same address.
        """
        username = get_client_username(request, credentials)
        count: int = AccessAttempt.objects.filter(username=username).delete()[0]
        return count


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The sign-in page, answered 429 with why and for how long (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    username = request.POST.get("username", "") if request.method == "POST" else ""
    form = AuthenticationForm(request, initial={"username": username})
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "locked_out": locked_out_message(minutes),
            "next": request.POST.get("next", "") if request.method == "POST" else "",
        },
        status=429,
    )
