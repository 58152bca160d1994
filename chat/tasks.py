"""Celery tasks: load by id, hand over to the worker runtime; no logic of their own."""

from __future__ import annotations

import uuid

from celery import shared_task
from celery.signals import worker_ready, worker_shutting_down


@shared_task(acks_late=True, ignore_result=True)
def generate_reply(message_id: str) -> None:
    """Stream the reply ``message_id``. Idempotent: a second delivery finds nothing to claim."""
    from .worker import WorkerRuntime

    WorkerRuntime.get().generate(uuid.UUID(message_id))


@shared_task(acks_late=True, ignore_result=True)
def generate_title(conversation_id: str) -> None:
    """Give a conversation a short title written by a fast model (thinking off)."""
    from .worker import WorkerRuntime

    WorkerRuntime.get().write_title(uuid.UUID(conversation_id))


@worker_ready.connect
def start_runtime(**_kwargs: object) -> None:
    """Start the loop (and with it the reaper) as soon as the worker is up."""
    from .worker import WorkerRuntime

    WorkerRuntime.get()


@worker_shutting_down.connect
def interrupt_replies(**_kwargs: object) -> None:
    from .worker import WorkerRuntime

    if WorkerRuntime._instance is not None:
        WorkerRuntime._instance.shutdown()
