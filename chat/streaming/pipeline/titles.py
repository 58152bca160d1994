"""Short conversation titles, written by a fast model with thinking off."""

from __future__ import annotations

import logging
import re
import uuid

from django.conf import settings
from django.utils import timezone

from chat.models import Conversation, Message, TitleUsage
from chat.streaming.pipeline.store import DbRunner, db_job, final_usage, usage_fields
from chat.upstream import ChatRequest, ChatTurn, UpstreamClient
from chat.upstream.events import Usage

logger = logging.getLogger(__name__)

MAX_TITLE_CHARS = 60
EXCERPT_CHARS = 2000
INSTRUCTION = (
    "Write a title of at most six words for the conversation below. "
    "Answer with the title only: no quotes, no punctuation at the end."
)


@db_job
def title_request(conversation_id: uuid.UUID) -> ChatRequest | None:
    """Return the request that asks for a title, or None when none is wanted."""
    conversation = Conversation.objects.filter(id=conversation_id, title_is_final=False).first()
    if conversation is None:
        return None
    question = conversation.messages.filter(role=Message.Role.USER).order_by("created_at").first()
    answer = (
        conversation.messages.filter(reply_to=question, status=Message.Status.COMPLETE)
        .order_by("created_at")
        .first()
    )
    if question is None or answer is None:
        return None
    # The answer only, never the reasoning: a title is about what was said.
    transcript = (
        f"User: {question.content[:EXCERPT_CHARS]}\n\nAssistant: {answer.content[:EXCERPT_CHARS]}"
    )
    return ChatRequest(
        model=settings.PONDER_TITLE_MODEL,
        messages=(
            ChatTurn(role="system", content=INSTRUCTION),
            ChatTurn(role="user", content=transcript),
        ),
        enable_thinking=False,
    )


def clean_title(text: str) -> str:
    """Return the first line of a model's answer as a plain, short title."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"^[#>*\-\s]+|[*_`\"'“”«»]+", "", line).strip().rstrip(".:;,!")
    if len(line) > MAX_TITLE_CHARS:
        line = line[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return line


@db_job
def save_title(conversation_id: uuid.UUID, title: str) -> bool:
    """Store a generated title unless the user renamed the conversation meanwhile."""
    return bool(
        Conversation.objects.filter(id=conversation_id, title_is_final=False).update(
            title=title, title_is_final=True
        )
    )


@db_job
def record_title_usage(
    conversation_id: uuid.UUID, request: ChatRequest, reported: Usage | None, text: str
) -> TitleUsage | None:
    """Store what asking for a title used (the spend report's "titles"); None if nothing."""
    usage = final_usage(request, reported, "", text)
    if not usage.input_tokens and not usage.output_tokens:
        return None
    asked_at = timezone.now()
    return TitleUsage.objects.create(
        conversation_id=conversation_id,
        model=request.model,
        created_at=asked_at,
        **usage_fields(request.model, asked_at, usage),
    )


async def write_title(
    conversation_id: uuid.UUID, client: UpstreamClient, db: DbRunner
) -> str | None:
    request = await db(title_request, conversation_id)
    if request is None:
        return None
    parts: list[str] = []
    usage: Usage | None = None
    failed = False
    async for event in client.stream(request):
        if event.kind == "content":
            parts.append(event.text)
        elif event.kind == "usage":
            usage = event.usage
        elif event.kind == "error":
            assert event.error is not None  # an "error" event always carries its error
            logger.info("title for %s not written: %s", conversation_id, event.error.code)
            failed = True
    await db(record_title_usage, conversation_id, request, usage, "".join(parts))
    if failed:
        return None
    title = clean_title("".join(parts))
    if not title:
        return None
    if await db(save_title, conversation_id, title):
        return title
    return None


@db_job
def wants_title(conversation_id: uuid.UUID) -> bool:
    """Return whether an untitled conversation just got its first complete reply."""
    untitled = Conversation.objects.filter(id=conversation_id, title_is_final=False).exists()
    replies = Message.objects.filter(
        conversation_id=conversation_id, role=Message.Role.ASSISTANT, status=Message.Status.COMPLETE
    ).count()
    return untitled and replies == 1
