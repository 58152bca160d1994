"""Database side of a streaming reply: claim, history, progress, finish. All sync.

These run in the worker's small DB thread pool, never on its event loop.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Field, Q, prefetch_related_objects
from django.utils import timezone

from accounts.policy import policy_for
from chat.branches import conversation_tree
from chat.models import Message
from chat.spend.pricing import compute_cost, price_in_force
from chat.streaming.errortext import MODEL_NO_LONGER_ALLOWED_TEXT
from chat.uploads.budget import TurnMedia, media_for_turns
from chat.upstream import ChatRequest, ChatTurn, UpstreamConfig
from chat.upstream.catalog import get_model
from chat.upstream.events import Usage
from chat.upstream.request import Protocol as WireProtocol
from chat.upstream.tokens import estimate_usage

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplyJob:
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    request: ChatRequest
    created_at: datetime
    claimed: Message  # the row as claimed, for the first ("streaming") status event
    lease: str  # this worker's claim token; every later write checks it


def upstream_config() -> UpstreamConfig:
    return UpstreamConfig(
        base_url=settings.DASHSCOPE_BASE_URL,
        api_key=settings.DASHSCOPE_API_KEY,
        # settings.py refuses any other value at start-up (and UpstreamConfig checks again).
        protocol=cast(WireProtocol, settings.DASHSCOPE_PROTOCOL),
        read_timeout=settings.UPSTREAM_READ_TIMEOUT,
    )


_P = ParamSpec("_P")
_R = TypeVar("_R")


def db_job(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` with a usable connection: drop broken or expired ones first."""

    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        close_old_connections()
        return fn(*args, **kwargs)

    return wrapper


class DbRunner(Protocol):
    """Awaits ``fn(*args, **kwargs)`` run off the event loop (``WorkerRuntime.db``)."""

    def __call__(
        self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> Awaitable[_R]: ...


ATTACHMENT_UNAVAILABLE = "attachment_unavailable"


class Unclaimable(Exception):
    """A pending reply that must end ``failed`` without being claimed, and why."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def check_policy(reply: Message, request: ChatRequest) -> ChatRequest:
    """Hold a reply to its owner's policy as it is now (it may have changed since the send).

    Raise Unclaimable for a model the policy no longer allows; cap the thinking budget.
    """
    policy = policy_for(reply.conversation.owner)
    model = get_model(reply.model)
    if model is None or not policy.allows(model.id):
        label = model.label if model else reply.model
        raise Unclaimable("model_not_allowed", MODEL_NO_LONGER_ALLOWED_TEXT % {"model": label})
    cap = policy.max_thinking_budget
    if cap is None or not request.enable_thinking or not model.supports_budget:
        return request
    if request.thinking_budget is not None and request.thinking_budget <= cap:
        return request
    return dataclasses.replace(request, thinking_budget=cap)


@db_job
def claim(message_id: uuid.UUID) -> ReplyJob | None:
    """Move a pending reply to streaming under a new lease; None if already taken.

    The request, attached images included, is built *before* the claim: an image the
    storage cannot give back raises ``AttachmentUnavailable``, a model the owner's policy
    no longer allows ``Unclaimable``, while the reply is still pending, for
    ``fail_unclaimed`` to end it.
    """
    pending = (
        Message.objects.select_related("reply_to", "conversation__owner")
        .filter(id=message_id, status=Message.Status.PENDING)
        .first()
    )
    if pending is None:
        return None
    request = check_policy(pending, build_request(pending))
    now = timezone.now()
    lease = uuid.uuid4().hex
    claimed = Message.objects.filter(id=message_id, status=Message.Status.PENDING).update(
        status=Message.Status.STREAMING, heartbeat_at=now, lease=lease
    )
    if not claimed:
        return None
    # The row is the one read above, but for what the update wrote (pending rows change
    # only by leaving pending, which the update would have refused).
    pending.status, pending.heartbeat_at, pending.lease = Message.Status.STREAMING, now, lease
    return ReplyJob(
        message_id=pending.id,
        conversation_id=pending.conversation_id,
        request=request,
        created_at=pending.created_at,
        claimed=pending,
        lease=lease,
    )


@db_job
def fail_unclaimed(message_id: uuid.UUID, error_code: str, error_message: str) -> Message | None:
    """End a reply that was never claimed ``failed``; its final status event is seq 1.

    None when it is no longer pending (another delivery claimed or ended it, or a stop).
    """
    failed = Message.objects.filter(id=message_id, status=Message.Status.PENDING).update(
        status=Message.Status.FAILED,
        completed_at=timezone.now(),
        stream_seq=1,
        error_code=error_code,
        error_message=error_message,
        reserved_tokens=0,
        reserved_cost=None,
    )
    return Message.objects.get(id=message_id) if failed else None


def build_request(reply: Message, *, images: bool = True) -> ChatRequest:
    """Return the upstream request: earlier turns (the versions on screen), then the question.

    With ``images``, the attached images go as data URLs, read from the storage
    (``AttachmentUnavailable`` when one cannot be): the question's always, earlier ones
    newest first within ``MAX_REQUEST_IMAGE_BYTES``, the rest as "[image]" placeholders.
    A model without vision gets every image as a placeholder, the question's included.
    Reading, downscaling and encoding them is slow: call this off the event loop.

    Earlier answers are sent as ``content`` only; reasoning goes back upstream only for a
    model whose catalog entry says it needs it echoed.
    """
    model = get_model(reply.model)
    echo_reasoning = bool(model and model.echo_reasoning)
    question = reply.reply_to
    assert question is not None  # every assistant reply answers a user message
    # The question's own branch only; turns the retention policy purged are left out:
    # they have no text to send.
    branch = conversation_tree(reply.conversation_id).ancestry(question.id)
    by_id = Message.objects.filter(
        Q(purged_at__isnull=True) | Q(id=question.id), id__in=branch
    ).in_bulk()
    questions = [by_id[i] for i in branch if i in by_id]
    prefetch_related_objects(questions, "attachments")
    answers = {
        answer.reply_to_id: answer
        for answer in Message.objects.filter(
            reply_to__in=[q.id for q in questions[:-1]], is_active_version=True
        ).exclude(content="")
    }
    if images:
        media = media_for_turns(
            [list(q.attachments.all()) for q in questions], vision=bool(model and model.vision)
        )
        log_left_out(reply, media)
    else:
        media = [TurnMedia() for _ in questions]
    system_prompt = reply.conversation.system_prompt.strip()
    # The seeds' advice for visual reasoning: a single-turn question with images gets no
    # system message; its instructions go at the head of the user message instead.
    folded = bool(system_prompt) and len(questions) == 1 and bool(questions[0].attachments.all())
    turns: list[ChatTurn] = []
    if system_prompt and not folded:
        turns.append(ChatTurn(role="system", content=system_prompt))
    for message, sent in zip(questions, media, strict=True):
        text = sent.text_with_placeholders(message.content)
        turns.append(
            ChatTurn(
                role="user",
                content=f"{system_prompt}\n\n{text}" if folded else text,
                images=sent.images,
                video_frames=sent.video_frames,
            )
        )
        if (answer := answers.get(message.id)) is not None:
            reasoning = answer.reasoning if echo_reasoning else ""
            turns.append(ChatTurn(role="assistant", content=answer.content, reasoning=reasoning))
    return ChatRequest(
        model=reply.model,
        messages=tuple(turns),
        enable_thinking=reply.enable_thinking if model and model.thinking == "hybrid" else None,
        thinking_budget=reply.thinking_budget,
    )


def log_left_out(reply: Message, media: list[TurnMedia]) -> None:
    left_out = sum(len(turn.omitted) for turn in media)
    if left_out:
        logger.info("reply %s: %d images or videos sent as placeholders (size cap or no vision)",
                    reply.id, left_out)  # fmt: skip


@dataclass(slots=True)
class Progress:
    """What a reply has produced so far, as handed to the database (a snapshot)."""

    reasoning: str = ""
    content: str = ""
    first_token_at: datetime | None = None
    answer_started_at: datetime | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    request_id: str | None = None
    seq: int = 0  # the text is that of events 1..seq


class SaveOutcome(enum.Enum):
    SAVED = "saved"
    CANCEL_REQUESTED = "cancel_requested"
    LEASE_LOST = "lease_lost"
    # The database holds another seq than the save built on (a save whose answer was lost
    # did commit): nothing was written; the next save rewrites the whole text.
    OUT_OF_STEP = "out_of_step"


@dataclass(frozen=True, slots=True)
class ProgressSave:
    """One reply's share of a beat's batched progress save (its heartbeat too).

    With ``base_seq``, ``reasoning`` and ``content`` are what events ``base_seq + 1 ..
    seq`` added, appended to the stored text only if the row is still at ``base_seq``;
    without, they are the whole text of events 1..``seq`` (after a snapshot, or when the
    row is out of step).
    """

    message_id: uuid.UUID
    lease: str
    seq: int
    base_seq: int | None
    reasoning: str
    content: str
    first_token_at: datetime | None
    answer_started_at: datetime | None


def _progress_statements() -> tuple[str, str]:
    """Return the append and the rewrite UPDATE, in the cursor's ``%s`` style."""
    meta = Message._meta
    q = connection.ops.quote_name

    def col(name: str) -> str:
        field = meta.get_field(name)
        return q(field.column if isinstance(field, Field) and field.column else name)

    reasoning, content = col("reasoning"), col("content")
    tail = (
        f"{col('stream_seq')} = %s, {col('first_token_at')} = %s, "
        f"{col('answer_started_at')} = %s, {col('heartbeat_at')} = %s "
        f"WHERE {col('id')} = %s AND {col('status')} = %s AND {col('lease')} = %s "
        f"AND {col('cancel_requested')} = %s"
    )
    table = q(meta.db_table)
    append = (
        f"UPDATE {table} SET {reasoning} = {reasoning} || %s, {content} = {content} || %s, "
        f"{tail} AND {col('stream_seq')} = %s"
    )
    rewrite = f"UPDATE {table} SET {reasoning} = %s, {content} = %s, {tail}"
    return append, rewrite


def _save_params(save: ProgressSave, now: datetime) -> list[Any]:
    fields = Message._meta
    when = fields.get_field("heartbeat_at")
    params = [
        save.reasoning,
        save.content,
        save.seq,
        when.get_db_prep_value(save.first_token_at, connection),
        when.get_db_prep_value(save.answer_started_at, connection),
        when.get_db_prep_value(now, connection),
        fields.pk.get_db_prep_value(save.message_id, connection),
        Message.Status.STREAMING.value,
        save.lease,
        False,
    ]
    if save.base_seq is not None:
        params.append(save.base_seq)
    return params


@db_job
def save_progress(saves: list[ProgressSave]) -> dict[uuid.UUID, SaveOutcome]:
    """Store the streamed text of every reply of a worker in one batch; also their heartbeat.

    Text is appended (a long reply costs its length in writes, not its length squared),
    each row only while it is this worker's (status, lease), not asked to stop (the
    database keeps a stop that Redis could not carry) and at the seq the save built on.
    Return each reply's outcome.
    """
    now = timezone.now()
    append, rewrite = _progress_statements()
    appends = [_save_params(s, now) for s in saves if s.base_seq is not None]
    rewrites = [_save_params(s, now) for s in saves if s.base_seq is None]
    with transaction.atomic(), connection.cursor() as cursor:
        if appends:
            cursor.executemany(append, appends)
        if rewrites:
            cursor.executemany(rewrite, rewrites)
        rows = {
            row[0]: row[1:]
            for row in Message.objects.filter(id__in=[s.message_id for s in saves]).values_list(
                "id", "status", "lease", "cancel_requested", "stream_seq"
            )
        }
    return {save.message_id: _outcome(save, rows.get(save.message_id)) for save in saves}


def _outcome(save: ProgressSave, row: tuple[str, str, bool, int] | None) -> SaveOutcome:
    if row is None:
        return SaveOutcome.LEASE_LOST
    status, lease, cancel_requested, stream_seq = row
    if status != Message.Status.STREAMING or lease != save.lease:
        return SaveOutcome.LEASE_LOST
    if cancel_requested:
        return SaveOutcome.CANCEL_REQUESTED
    return SaveOutcome.SAVED if stream_seq == save.seq else SaveOutcome.OUT_OF_STEP


def final_usage(
    request: ChatRequest, reported: Usage | None, reasoning: str, content: str
) -> Usage:
    """Return what a reply used: as the upstream reported it, else estimated from its text.

    A reply the model sent nothing for (the key refused, rate-limited after retries, the
    connection refused, the input rejected) used nothing: 0 tokens, 0 cost, no quota.
    """
    if reported is not None:
        return reported
    if not reasoning and not content:
        return Usage()
    return estimate_usage((turn.content for turn in request.messages), reasoning, content)


def usage_fields(model: str, asked_at: datetime, usage: Usage) -> dict[str, Any]:
    """Return the usage and cost columns of a finished reply, priced as when it was asked."""
    price = price_in_force(model, asked_at)
    cost = None
    if price is not None:
        cost = compute_cost(
            price,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            cached_tokens=usage.cached_tokens,
        )
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cached_tokens": usage.cached_tokens,
        "total_tokens": usage.total_tokens or usage.input_tokens + usage.output_tokens,
        "usage_estimated": usage.estimated,
        "cost": cost.amount if cost else None,
        "cost_currency": cost.currency if cost else "",
    }


def ended_reply_fields(model: str, asked_at: datetime, usage: Usage) -> dict[str, Any]:
    """Return the usage columns of a reply that ended; its reservation is released."""
    return {**usage_fields(model, asked_at, usage), "reserved_tokens": 0, "reserved_cost": None}


@db_job
def finish(
    job: ReplyJob,
    progress: Progress,
    status: Message.Status,
    *,
    error_code: str = "",
    error_message: str = "",
) -> Message | None:
    """Store the final state of a reply, ``progress.seq`` being its final status event's seq.

    None when the reply is no longer this worker's (the reaper ended it).
    """
    usage = final_usage(job.request, progress.usage, progress.reasoning, progress.content)
    now = timezone.now()
    mine = Message.objects.filter(
        id=job.message_id, status=Message.Status.STREAMING, lease=job.lease
    )
    if status == Message.Status.COMPLETE and mine.filter(cancel_requested=True).exists():
        status = Message.Status.CANCELLED  # the stop came in as the model finished
    updated = mine.update(
        status=status,
        stream_seq=progress.seq,
        reasoning=progress.reasoning,
        content=progress.content,
        first_token_at=progress.first_token_at,
        answer_started_at=progress.answer_started_at,
        completed_at=now,
        heartbeat_at=now,
        finish_reason=progress.finish_reason,
        error_code=error_code,
        error_message=error_message,
        upstream_request_id=progress.request_id or "",
        **ended_reply_fields(job.request.model, job.created_at, usage),
    )
    if not updated:
        # A retry after a write that committed but whose answer was lost finds its own end.
        return Message.objects.filter(
            id=job.message_id, lease=job.lease, status=status, stream_seq=progress.seq
        ).first()
    return Message.objects.get(id=job.message_id)
