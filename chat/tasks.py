"""Celery tasks: load by id, hand over to the worker runtime; no logic of their own.

This is the only module that names tasks. The streaming package below it gets what it
needs from them (requeue a reply, ask for a title) as callbacks, so imports run one way.
"""

from __future__ import annotations

import uuid

from celery import shared_task
from celery.signals import worker_ready, worker_shutting_down

from chat.streaming.runtime import Hooks, WorkerRuntime


@shared_task(acks_late=True, ignore_result=True)
def generate_reply(message_id: str) -> None:
    """Stream the reply ``message_id``. Idempotent: a second delivery finds nothing to claim."""
    runtime().generate(uuid.UUID(message_id))


@shared_task(acks_late=True, ignore_result=True)
def generate_title(conversation_id: str) -> None:
    """Give a conversation a short title written by a fast model (thinking off)."""
    runtime().write_title(uuid.UUID(conversation_id))


def requeue_reply(message_id: uuid.UUID) -> None:
    generate_reply.delay(str(message_id))


def request_title(conversation_id: uuid.UUID) -> None:
    generate_title.delay(str(conversation_id))


HOOKS = Hooks(requeue_reply=requeue_reply, request_title=request_title)


def runtime() -> WorkerRuntime:
    return WorkerRuntime.get(HOOKS)


@worker_ready.connect
def start_runtime(**_kwargs: object) -> None:
    """Start the loop (and with it the reaper) as soon as the worker is up."""
    runtime()


@worker_shutting_down.connect
def interrupt_replies(**_kwargs: object) -> None:
    running = WorkerRuntime.running()
    if running is not None:
        running.shutdown()
