"""Fair use: how much one user may ask of the workers, and of their monthly allowance.

Every new reply (send, regenerate, edit) passes, after the policy's model and thinking
checks (403 / 400), three checks:

* a send rate per user (``PONDER_SEND_RATE``, e.g. ``20/minute``), a moving window
  counted in Redis by ``limits``, so every web process shares it;
* at most the policy's ``max_active_replies`` replies pending or streaming at once, so
  one user's burst cannot fill the workers' slots and delay everybody else;
* the monthly allowances in tokens and money, the user's and their groups' (quota.py),
  counting what replies in flight have *reserved*: an estimate of their prompt and
  output, and its price, held from the send until their real usage is stored.

The last two are checked, and the reply written, under a lock on the user's row
(``admit_reply``), so parallel requests see each other's replies and a burst cannot
overshoot. Each refusal is a 429 with ``Retry-After``; nothing is written.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from accounts.models import User
from accounts.policy import Policy
from chat import l10n
from chat.errors import BadRequest, Forbidden, TooManyRequests
from chat.fairuse.quota import check_quota
from chat.models import Conversation, Message
from chat.spend.pricing import compute_cost, price_in_force
from chat.streaming import bus
from chat.upstream import estimate_tokens
from chat.upstream.catalog import ModelInfo

logger = logging.getLogger(__name__)

ACTIVE_RETRY_AFTER_SECONDS = 5
# What a reply is assumed to write when nothing bounds it: the answer, and the reasoning
# of a thinking reply without a budget. Generous on purpose: an estimate below the real
# usage lets a burst overshoot the quota by the difference.
ANSWER_RESERVE_TOKENS = 2_000
THINKING_RESERVE_TOKENS = 8_000
IMAGE_RESERVE_TOKENS = 1_300  # a 1024×1024 image is about 1,300 tokens for Qwen-VL


@functools.cache
def _limiter() -> MovingWindowRateLimiter:
    pool = redis.ConnectionPool.from_url(
        settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
    )
    storage = RedisStorage("redis://", connection_pool=pool, key_prefix=bus.SEND_RATE_PREFIX)
    return MovingWindowRateLimiter(storage)


def send_rate() -> RateLimitItem:
    return parse(settings.SEND_RATE)


def check_send_rate(user: User) -> None:
    """Count one send against the user's rate; raise TooManyRequests past it.

    With Redis unreachable the send is let through: the active-reply cap, kept in the
    database, still bounds what one user can start.
    """
    rate = send_rate()
    try:
        if _limiter().hit(rate, str(user.pk)):
            return
        reset_at = _limiter().get_window_stats(rate, str(user.pk)).reset_time
    except redis.RedisError as exc:
        logger.warning("send rate unchecked for user %s (%s)", user.pk, type(exc).__name__)
        return
    raise TooManyRequests(
        gettext(
            "You are sending messages faster than %(count)s per %(seconds)s seconds; "
            "wait a moment and try again."
        )
        % {"count": rate.amount, "seconds": rate.get_expiry()},
        code="too_many_sends",
        retry_after=math.ceil(reset_at - time.time()),
    )


def reset_send_rate(user: User) -> None:
    _limiter().clear(send_rate(), str(user.pk))


def check_model_allowed(policy: Policy, model: ModelInfo) -> None:
    if not policy.allows(model.id):
        raise Forbidden(
            gettext(
                "%(model)s is not among the models your groups may use; "
                "pick another one or ask an administrator."
            )
            % {"model": model.label},
            code="model_not_allowed",
            field="model",
        )


def capped_thinking_budget(
    policy: Policy, model: ModelInfo, enable_thinking: bool, budget: int | None
) -> int | None:
    """Return the budget to use under the policy's cap; refuse one above it.

    A thinking reply of a model that takes a budget, asked without one, gets the cap.
    """
    cap = policy.max_thinking_budget
    if cap is None or not enable_thinking or not model.supports_budget:
        return budget
    if budget is None:
        return cap
    if budget > cap:
        raise BadRequest(
            gettext("Your thinking budget can be at most %(limit)s tokens.")
            % {"limit": l10n.grouped(cap)},
            code="thinking_budget_too_high",
            field="thinking_budget",
        )
    return budget


def check_active_replies(user: User, policy: Policy) -> None:
    active = Message.objects.filter(
        conversation__owner=user,
        role=Message.Role.ASSISTANT,
        status__in=[Message.Status.PENDING, Message.Status.STREAMING],
    ).count()
    limit = policy.max_active_replies
    if active >= limit:
        raise TooManyRequests(
            ngettext(
                "You already have %(active)s reply being written (at most %(limit)s at once); "
                "wait for it to finish or stop it.",
                "You already have %(active)s replies being written (at most %(limit)s at "
                "once); wait for one to finish or stop it.",
                active,
            )
            % {"active": active, "limit": limit},
            code="too_many_active_replies",
            retry_after=ACTIVE_RETRY_AFTER_SECONDS,
        )


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a new reply is expected to use, held against the allowances while it runs."""

    tokens: int
    cost: Decimal | None  # in the budget currency; None when the model has no such price


def reservation(
    conversation: Conversation,
    *,
    model: str,
    content: str,
    enable_thinking: bool,
    thinking_budget: int | None,
    images: int = 0,
) -> Reservation:
    """Estimate the tokens a new reply will use (its prompt, reasoning and answer) and
    their price now.

    The prompt is the conversation so far (the last reply's own input and output, which
    the new request resends) plus the new message.
    """
    last = (
        Message.objects.filter(conversation=conversation, role=Message.Role.ASSISTANT)
        .order_by("-created_at")
        .values_list("input_tokens", "output_tokens")
        .first()
    )
    history = sum(last) if last else 0
    prompt = history + estimate_tokens(content) + images * IMAGE_RESERVE_TOKENS
    thinking = (thinking_budget or THINKING_RESERVE_TOKENS) if enable_thinking else 0
    output = thinking + ANSWER_RESERVE_TOKENS
    return Reservation(prompt + output, expected_cost(model, prompt, output, thinking))


def expected_cost(model: str, prompt: int, output: int, reasoning: int) -> Decimal | None:
    price = price_in_force(model, timezone.now())
    if price is None or price.currency != settings.BUDGET_CURRENCY:
        return None
    return compute_cost(
        price,
        input_tokens=prompt,
        output_tokens=output,
        reasoning_tokens=reasoning,
        cached_tokens=0,
    ).amount


@contextmanager
def admit_reply(user: User, policy: Policy, reserve: Reservation) -> Iterator[None]:
    """Check the active-reply cap and the allowances (with ``reserve`` more), then write.

    Use it as the transaction that creates the pending reply (with ``reserve`` stored on
    it): the lock on the user's row is held until it commits.
    """
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        check_active_replies(user, policy)
        check_quota(user, reserve=reserve.tokens, reserve_cost=reserve.cost, policy=policy)
        yield
