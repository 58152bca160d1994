"""Admin review of conversations (full transcripts with reasoning), messages and prices.

History is read-only here: admins read transcripts, they do not edit them. Prices are
editable; saving one changes no stored cost (``manage.py recost`` does, on request).
The audit log is read-only for everyone.
"""

from chat.admin import audit, messages, prices, transcripts

__all__ = ["audit", "messages", "prices", "transcripts"]
