"""The first administrator: a one-time set-up token in production, one winner in any race."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import SetupState, User
from .forms import FirstAdminForm

logger = logging.getLogger(__name__)

SETUP_PATH = "/accounts/setup/"


class WrongToken(Exception):
    """The set-up token is missing or not the one issued."""


def token_required() -> bool:
    """Production (DJANGO_DEBUG=0) asks for the token; development keeps the open form."""
    return not settings.DEBUG


def hash_token(token: str) -> str:
    # The token is 256 random bits: a fast hash is enough, nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def _locked_state() -> SetupState:
    """The singleton row, locked until the surrounding transaction ends."""
    SetupState.objects.get_or_create(pk=SetupState.SINGLETON)
    return SetupState.objects.select_for_update().get(pk=SetupState.SINGLETON)


def _store_new_token(state: SetupState) -> str:
    token = secrets.token_urlsafe(32)
    state.token_hash = hash_token(token)
    state.token_issued_at = timezone.now()
    state.save(update_fields=["token_hash", "token_issued_at"])
    return token


def announce(token: str) -> None:
    logger.warning(
        "No user exists yet. To create the first administrator, open %s?token=%s "
        "on this site (or type the set-up token %s into the set-up form). "
        "The token works once; `manage.py setup_token` issues a new one.",
        SETUP_PATH,
        token,
        token,
    )


def issue_token_if_needed() -> None:
    """Issue and log a set-up token when production needs one and none is outstanding.

    Under the row lock, so two processes reaching here at once issue (and log) one token.
    """
    if not token_required() or User.objects.exists():
        return
    if SetupState.objects.filter(pk=SetupState.SINGLETON).exclude(token_hash="").exists():
        return
    with transaction.atomic():
        state = _locked_state()
        if state.token_hash or User.objects.exists():
            return
        token = _store_new_token(state)
    announce(token)


def rotate_token() -> str | None:
    """Replace any outstanding token with a new one; None once a user exists."""
    with transaction.atomic():
        state = _locked_state()
        if User.objects.exists():
            return None
        return _store_new_token(state)


def token_matches(state: SetupState, token: str) -> bool:
    if not state.token_hash or not token:
        return False
    return hmac.compare_digest(hash_token(token), state.token_hash)


def create_first_admin(form: FirstAdminForm, token: str) -> User | None:
    """Save the valid form as the first superuser; None if a user exists by now.

    Raises WrongToken when the token is required and does not match (nothing is written).
    """
    with transaction.atomic():
        state = _locked_state()  # concurrent set-ups wait here for the first to commit
        if User.objects.exists():
            return None
        if token_required() and not token_matches(state, token):
            raise WrongToken
        user = form.save()
        state.token_hash = ""  # spent
        state.save(update_fields=["token_hash"])
    return user
