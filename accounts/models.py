from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A member of staff. Custom from the first migration so fields can be added later."""

    monthly_token_quota = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Input + output tokens allowed per calendar month (UTC). Empty: no limit.",
    )

    legal_hold = models.BooleanField(
        default=False,
        help_text="Exempt this user's conversations from the retention policy "
        "(nothing of theirs is purged while set).",
    )

    def __str__(self) -> str:
        return self.username


class SetupState(models.Model):
    """The single row (pk 1) of the first-admin set-up: its token's hash, and its lock.

    Creating the first administrator locks this row (``select_for_update``) before it
    checks that no user exists, so two set-ups racing on PostgreSQL run one after the
    other and the second finds the first's user. On SQLite every transaction takes the
    write lock up front (``transaction_mode: IMMEDIATE``), which serialises them as well.
    """

    SINGLETON = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON, editable=False)
    token_hash = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 (hex) of the one-time set-up token."
    )
    token_issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="setupstate_singleton"),
        ]

    def __str__(self) -> str:
        return "first-admin set-up"
