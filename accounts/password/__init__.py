"""Password sign-in around Django's own: the forms (SSO-only mode for the admin too),
login throttling with django-axes, and the first administrator's one-time set-up.

The password backend stays at ``accounts.backends``: sessions store its dotted path.
"""
