"""The admin: users and groups with their policies and spend, transcripts (with reasoning),
messages, prices and the audit log.

History is read-only here: admins read transcripts, they do not edit them. Prices are
editable, for the catalog's models only; saving one changes no stored cost until an
admin re-costs a range (``recost.py``, or ``manage.py recost`` in scripts).
The audit log is read-only for everyone.
"""

from chat.admin import audit, messages, people, prices, recost, transcripts

__all__ = ["audit", "messages", "people", "prices", "recost", "transcripts"]
