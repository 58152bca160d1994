from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A member of staff. Custom from the first migration so fields can be added later."""

    monthly_token_quota = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Input + output tokens allowed per calendar month (UTC). Empty: no limit.",
    )

    def __str__(self) -> str:
        return self.username
