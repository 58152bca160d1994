"""Fair use: how much one user may ask of the workers, and of their monthly allowance.

Every new reply (send, regenerate, edit) passes three checks:

* a send rate per user (``PONDER_SEND_RATE``, e.g. ``20/minute``), a moving window
  counted in Redis by ``limits``, so every web process shares it;
* at most ``PONDER_MAX_ACTIVE_REPLIES`` replies pending or streaming at once, so one
  user's burst cannot fill the workers' slots and delay everybody else;
* the monthly quota, counting what replies in flight have *reserved*: an estimate of
  their prompt and output, held from the send until their real usage is stored.

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

import redis
from django.conf import settings
from django.db import transaction
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from accounts.models import User
from chat.errors import TooManyRequests
from chat.models import Conversation, Message
from chat.streaming import bus
from chat.upstream import estimate_tokens

from .quota import check_quota

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
        f"You are sending messages faster than {rate.amount} per "
        f"{rate.get_expiry()} seconds; wait a moment and try again.",
        code="too_many_sends",
        retry_after=math.ceil(reset_at - time.time()),
    )


def reset_send_rate(user: User) -> None:
    _limiter().clear(send_rate(), str(user.pk))


def check_active_replies(user: User) -> None:
    active = Message.objects.filter(
        conversation__owner=user,
        role=Message.Role.ASSISTANT,
        status__in=[Message.Status.PENDING, Message.Status.STREAMING],
    ).count()
    limit = settings.MAX_ACTIVE_REPLIES
    if active >= limit:
        raise TooManyRequests(
            f"You already have {active} replies being written (at most {limit} at once); "
            "wait for one to finish or stop it.",
            code="too_many_active_replies",
            retry_after=ACTIVE_RETRY_AFTER_SECONDS,
        )


def reservation(
    conversation: Conversation,
    *,
    content: str,
    enable_thinking: bool,
    thinking_budget: int | None,
    images: int = 0,
) -> int:
    """Estimate the tokens a new reply will use: its prompt, its reasoning, its answer.

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
    return prompt + thinking + ANSWER_RESERVE_TOKENS


@contextmanager
def admit_reply(user: User, reserve: int) -> Iterator[None]:
    """Check the active-reply cap and the quota (with ``reserve`` more), then write.

    Use it as the transaction that creates the pending reply (with ``reserved_tokens =
    reserve``): the lock on the user's row is held until it commits.
    """
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        check_active_replies(user)
        check_quota(user, reserve=reserve)
        yield
