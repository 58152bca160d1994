from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from chat.audit import signals  # noqa: F401  (connects the sign-in receivers)
