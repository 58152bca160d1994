"""What company sign-in announces for others to record.

``chat.audit`` listens, so accounts never imports chat: the apps depend one way.
"""

from django.dispatch import Signal

# A company sign-in changed the user's groups: user, request (or None), added, removed.
groups_synced = Signal()

# A company sign-in was refused: request, reason, and error (the issuer's code, or "").
company_sign_in_refused = Signal()
