from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A member of staff. Custom from the first migration so fields can be added later."""

    monthly_token_quota = models.PositiveBigIntegerField(
        _("monthly token quota"),
        null=True,
        blank=True,
        help_text=_("Input + output tokens allowed per calendar month (UTC). Empty: no limit."),
    )

    legal_hold = models.BooleanField(
        _("legal hold"),
        default=False,
        help_text=_(
            "Exempt this user's conversations from the retention policy "
            "(nothing of theirs is purged while set)."
        ),
    )

    # Copied into each new conversation's system prompt (changing it leaves old chats be).
    default_system_prompt = models.TextField(
        _("default system prompt"), blank=True, max_length=8000
    )

    # The OpenID Connect ``sub`` of the company account this user signs in with: the
    # issuer's stable id, unlike an email address, which can be reassigned.
    oidc_subject = models.CharField(_("oidc subject"), max_length=255, blank=True, db_index=True)

    # The interface language this user picked (a code of settings.LANGUAGES); empty:
    # follow the browser.
    language = models.CharField(_("language"), max_length=16, blank=True)

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


class GroupPolicy(models.Model):
    """What the members of one group may use and spend.

    An empty field means the deployment's default for it (settings). A user in several
    groups gets the most generous value of each; a user in none gets the defaults.
    Money is in the deployment's budget currency (``PONDER_BUDGET_CURRENCY``).
    """

    group = models.OneToOneField(
        Group,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="policy",
        verbose_name=_("group"),
    )
    allowed_models = models.JSONField(
        _("allowed models"),
        default=list,
        blank=True,
        help_text=_("Model ids the members may use. Empty: every model."),
    )
    max_thinking_budget = models.PositiveIntegerField(
        _("max thinking budget"),
        null=True,
        blank=True,
        help_text=_("The highest thinking budget (tokens) a member may ask for."),
    )
    max_active_replies = models.PositiveIntegerField(
        _("max active replies"),
        null=True,
        blank=True,
        help_text=_("Replies a member may have pending or streaming at once."),
    )
    member_monthly_tokens = models.PositiveBigIntegerField(
        _("member monthly tokens"),
        null=True,
        blank=True,
        help_text=_("Input + output tokens each member may use per month."),
    )
    member_monthly_budget = models.DecimalField(
        _("member monthly budget"),
        max_digits=12, decimal_places=2, null=True, blank=True,
        help_text=_("Money each member may spend per month."),
    )  # fmt: skip
    group_monthly_tokens = models.PositiveBigIntegerField(
        _("group monthly tokens"),
        null=True,
        blank=True,
        help_text=_("Tokens the whole group may use per month."),
    )
    group_monthly_budget = models.DecimalField(
        _("group monthly budget"),
        max_digits=12, decimal_places=2, null=True, blank=True,
        help_text=_("Money the whole group may spend per month."),
    )  # fmt: skip

    class Meta:
        verbose_name = _("group policy")
        verbose_name_plural = _("group policies")

    def __str__(self) -> str:
        return gettext("policy of %(group)s") % {"group": self.group.name}
