from django.conf import settings
from django.http import HttpRequest


def sign_in_options(request: HttpRequest) -> dict[str, object]:
    """Tell the sign-in pages which ways in are offered (company sign-in, passwords)."""
    return {
        "sso_enabled": bool(settings.OIDC_ISSUER),
        "sso_name": settings.OIDC_NAME,
        "password_login": settings.PASSWORD_LOGIN,
    }
