"""Admin review of conversations (full transcripts with reasoning), messages and prices.

History is read-only here: admins read transcripts, they do not edit them. Prices are
editable; saving one changes no stored cost (``manage.py recost`` does, on request).
"""

from chat.admin import messages, prices, transcripts

__all__ = ["messages", "prices", "transcripts"]
