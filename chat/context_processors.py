from django.conf import settings
from django.http import HttpRequest


def upstream_mode(request: HttpRequest) -> dict[str, bool]:
    """Tell templates whether replies come from the bundled simulator."""
    return {"using_simulator": settings.PONDER_SIMULATOR}
