"""Starting company sign-in, its callback (``/oidc/callback/``), and sign-out at the issuer.

mozilla-django-oidc's views keep state, nonce and the PKCE verifier in the session and
drop each state after one use. Ponder's subclasses take the issuer's endpoints from
discovery and turn every refusal into the sign-in page with a message and an audit entry.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.views.generic import View
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from .backend import BACKEND_PATH
from .discovery import provider_metadata
from .errors import OIDCRefused, ProviderUnavailable
from .signals import company_sign_in_refused

logger = logging.getLogger(__name__)

REFUSED_MESSAGE = gettext_noop(
    "Company sign-in did not work. Please try again; if it keeps failing, tell IT "
    "(reason: %(reason)s)."
)
UNAVAILABLE_MESSAGE = gettext_noop(
    "Company sign-in is unavailable right now. Please try again later."
)


class SignInView(OIDCAuthenticationRequestView):
    """Send the browser to the issuer with a fresh state, nonce and PKCE challenge."""

    def __init__(self, **kwargs: Any) -> None:
        # The library's __init__ reads the authorization endpoint from settings; ours
        # comes from discovery, in get().
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ISSUER:
            raise Http404("company sign-in is not configured")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_metadata().authorization_endpoint
        except ProviderUnavailable:
            messages.error(request, gettext(UNAVAILABLE_MESSAGE))
            return redirect("login")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        response: HttpResponse = super().get(request)
        return response


class CallbackView(OIDCAuthenticationCallbackView):
    """Sign in the user the issuer vouches for, or refuse, record why and say so."""

    failure_reason = "refused"

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ISSUER:
            raise Http404("company sign-in is not configured")
        if "error" in request.GET:  # the issuer refused, or the user cancelled there
            self.failure_reason = "provider_error"
        elif not (request.GET.get("code") and request_state_is_known(request)):
            return refuse(request, "state")
        try:
            response: HttpResponse = super().get(request)
        except OIDCRefused as exc:
            logger.warning("OIDC sign-in refused (%s): %s", exc.reason, exc)
            return refuse(request, exc.reason)
        except ProviderUnavailable:
            return refuse(request, ProviderUnavailable.reason, message=UNAVAILABLE_MESSAGE)
        except requests.RequestException as exc:  # the token or userinfo endpoint said no
            logger.warning("OIDC token exchange failed: %s", exc)
            return refuse(request, "token_exchange")
        return response

    def login_failure(self) -> HttpResponse:
        if getattr(self.request, "axes_locked_out", False):
            # django-axes refused (its middleware answers 429; Django's signal recorded it).
            return HttpResponseRedirect(reverse("login"))
        detail = (
            {"error": self.request.GET.get("error", "")[:100]}
            if "error" in self.request.GET
            else {}
        )
        return refuse(self.request, self.failure_reason, **detail)


def request_state_is_known(request: HttpRequest) -> bool:
    """Return whether the callback's state is one this session sent (and has not used)."""
    states = request.session.get("oidc_states")
    return isinstance(states, dict) and request.GET.get("state") in states


def refuse(
    request: HttpRequest, reason: str, *, message: str = REFUSED_MESSAGE, error: str = ""
) -> HttpResponse:
    """Record a refused company sign-in and send the browser back to the sign-in page.

    ``error`` is the OAuth error code the issuer sent back (``access_denied``...), if any.
    """
    company_sign_in_refused.send(None, request=request, reason=reason, error=error)
    messages.error(request, gettext(message) % {"reason": reason})
    return redirect("login")


def end_session_url(request: HttpRequest) -> str:
    """Return where to sign out at the issuer too, or "" (not a company session, or no need).

    Call before the Django session is flushed: it reads the ID token kept there.
    """
    if not settings.OIDC_ISSUER or request.session.get(BACKEND_SESSION_KEY) != BACKEND_PATH:
        return ""
    try:
        endpoint = provider_metadata().end_session_endpoint
    except ProviderUnavailable:
        return ""
    if not endpoint:
        return ""
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    id_token = request.session.get("oidc_id_token")
    if isinstance(id_token, str):
        params["id_token_hint"] = id_token
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"
