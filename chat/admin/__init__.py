"""Admin review of conversations (full transcripts with reasoning), messages and prices.

History is read-only here: admins read transcripts, they do not edit them. Prices are
editable, for the catalog's models only; saving one changes no stored cost until an
admin re-costs a range (``recost.py``, or ``manage.py recost`` in scripts).
The audit log is read-only for everyone.
"""

from chat.admin import audit, messages, prices, recost, transcripts

__all__ = ["audit", "messages", "prices", "recost", "transcripts"]
