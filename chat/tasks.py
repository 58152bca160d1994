"""Celery tasks: load by id, hand over to the worker runtime; no logic of their own.

This is the only module that names tasks. The streaming package below it gets what it
needs from them (requeue a reply, ask for a title) as callbacks, so imports run one way.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import shared_task
from celery.signals import worker_ready, worker_shutting_down
from django.conf import settings

from chat.observability import metrics
from chat.observability.logcontext import clean_request_id
from chat.retention import purge_by_policy
from chat.streaming.pipeline.runtime import Hooks, WorkerRuntime
from chat.streaming.pipeline.store import db_job

logger = logging.getLogger(__name__)


# The message header carrying the send's request id. A header, not an argument: workers of
# the previous release ignore it, and messages queued before this one simply lack it.
REQUEST_ID_HEADER = "ponder_request_id"


@shared_task(bind=True, acks_late=True, ignore_result=True)
def generate_reply(self: Any, message_id: str) -> None:
    """Stream the reply ``message_id``. Idempotent: a second delivery finds nothing to claim.

    The reply logs with the send's request id (the ``ponder_request_id`` header); messages
    without one (older ones, the reaper's requeues) get a fresh id.
    """
    request_id = clean_request_id(getattr(self.request, REQUEST_ID_HEADER, None))
    runtime().generate(uuid.UUID(message_id), request_id)


def queue_reply(message_id: uuid.UUID, request_id: str | None) -> None:
    """Queue ``generate_reply``, carrying the request id when there is one."""
    headers = {REQUEST_ID_HEADER: request_id} if request_id else None
    generate_reply.apply_async((str(message_id),), headers=headers)


@shared_task(acks_late=True, ignore_result=True)
def generate_title(conversation_id: str) -> None:
    """Give a conversation a short title written by a fast model (thinking off)."""
    runtime().write_title(uuid.UUID(conversation_id))


def requeue_reply(message_id: uuid.UUID) -> None:
    generate_reply.delay(str(message_id))


def request_title(conversation_id: uuid.UUID) -> None:
    generate_title.delay(str(conversation_id))


@db_job
def run_retention() -> None:
    purge_by_policy()


HOOKS = Hooks(requeue_reply=requeue_reply, request_title=request_title, run_daily=run_retention)


def runtime() -> WorkerRuntime:
    return WorkerRuntime.get(HOOKS)


@worker_ready.connect
def start_runtime(**_kwargs: object) -> None:
    """Start the loop (and with it the reaper) as soon as the worker is up."""
    runtime()
    if settings.WORKER_METRICS_PORT is not None:
        try:
            metrics.serve_worker_metrics(settings.WORKER_METRICS_PORT, settings.METRICS_TOKEN)
        except OSError:
            logger.exception("worker metrics: cannot listen on %d", settings.WORKER_METRICS_PORT)


@worker_shutting_down.connect
def interrupt_replies(**_kwargs: object) -> None:
    running = WorkerRuntime.running()
    if running is not None:
        running.shutdown()
