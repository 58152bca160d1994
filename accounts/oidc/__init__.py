"""Company sign-in over OpenID Connect: mozilla-django-oidc's flow, configured by PONDER_OIDC_*."""
