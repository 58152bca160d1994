"""The audit log: who did what to whose data, written once and never changed."""

from .log import Action, field_values, json_value, record

__all__ = ["Action", "field_values", "json_value", "record"]
