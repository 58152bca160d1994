"""The audit log: who did what to whose data, written once and never changed."""

from .log import Action, record

__all__ = ["Action", "record"]
