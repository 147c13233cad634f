"""Users (log in by e-mail), organizations (the tenants), memberships with roles, audit."""

from __future__ import annotations

import re
import secrets
import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.tenancy import TenantManager


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Logs in by e-mail; belongs to organizations through memberships."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May log in to the Django admin (operators, not customers)."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    session_generation = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text='Raised by "log out everywhere": every session signed before it ends.',
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_uniq"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def _get_session_auth_hash(self, secret=None) -> str:
        """Django's session hash (password, signed with `secret` for SECRET_KEY_FALLBACKS),
        plus `session_generation`: raising it ends every session signed before. Both
        `get_session_auth_hash` and its fallbacks go through here. Generation 0 keeps
        Django's own hash, so sessions from before this field still work."""
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        key_salt = "accounts.User.get_session_auth_hash"
        value = f"{self.password}:{self.session_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


# Lowercase RFC 4648 base32: no `_`, `-` or `.`, so it can lead an API key or a survey token
# and be split off again; 10 characters are 50 random bits.
PUBLIC_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
PUBLIC_ID_LENGTH = 10
PUBLIC_ID_RE = rf"^[{PUBLIC_ID_ALPHABET}]{{{PUBLIC_ID_LENGTH}}}$"


def new_public_id() -> str:
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


def is_public_id(value: object) -> bool:
    """Whether `value` has the shape of a public id (not whether one exists)."""
    return isinstance(value, str) and re.fullmatch(PUBLIC_ID_RE, value) is not None


class Organization(models.Model):
    """A CDMO: the tenant. Everything else belongs to exactly one.

    `public_id` is random, public and never changes: API keys and survey links carry it, so
    the lookups that start from a token find the organization first and then search inside
    it (which is what lets the tables be distributed by organization).
    """

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH,
        unique=True,
        editable=False,
        default=new_public_id,
        validators=[RegexValidator(PUBLIC_ID_RE)],
    )
    slug = models.SlugField(
        max_length=50,
        unique=True,
        validators=[
            RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Use lowercase letters, digits and -.")
        ],
    )
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")
    require_admin_two_factor = models.BooleanField(
        default=False,
        help_text="Admins must set up a second factor (TOTP) before they can use the app.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_loaded_public_id", None)
        if not self._state.adding and loaded is not None and self.public_id != loaded:
            raise RuntimeError("An organization's public id never changes: keys and links use it.")
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_public_id = instance.__dict__.get("public_id")
        return instance


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    EXECUTIVE = "executive", "Executive"
    ACCOUNT_MANAGER = "account_manager", "Account manager"
    PROJECT_MANAGER = "project_manager", "Project manager"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    """A user's role in one organization. A user may belong to several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"],
                name="accounts_membership_uniq",
                violation_error_message="This user is already a member of the organization.",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values),
                name="accounts_membership_role_valid",
                violation_error_message="Unknown role.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"


class Invitation(models.Model):
    """An admin's invitation to join an organization with a role.

    The link carries `inv_<organization public id>_<secret>`; only the SHA-256 of the whole
    token is stored. It works once (`accepted_at`), until `expires_at`, unless revoked.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, editable=False)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "token_hash"], name="accounts_invitation_token_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values),
                name="accounts_invitation_role_valid",
                violation_error_message="Unknown role.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} invited to {self.organization_id} as {self.role}"

    def is_pending(self, now=None) -> bool:
        now = now or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class AuditEvent(models.Model):
    """Append-only journal of every change a service makes to a domain row.

    Written in the same transaction as the change, so a change without its audit event
    (or the reverse) cannot be committed.
    """

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        TRANSITION = "transition"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=255, help_text="Who acted, as it was at the time (e-mail, API key, system)."
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=255)
    changes = models.JSONField(default=dict, help_text="{field: [before, after]}")
    reason = models.TextField(blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["organization", "object_type", "object_id"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=["create", "update", "delete", "transition"]),
                name="accounts_auditevent_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Audit events are append-only.")
        super().save(*args, **kwargs)


class ApiKey(models.Model):
    """An organization's key for integrations. Only a hash is stored; the key is shown once.

    Keys look like `cdmo_<organization public id>_<prefix>_<secret>`: the public id finds the
    organization, the prefix the row inside it, and the SHA-256 of the whole key (compared in
    constant time) proves it. The secret is 256 random bits, so a fast hash is enough (a slow
    password hash protects guessable secrets, which these are not). Keys issued before the
    public id existed (`cdmo_<prefix>_<secret>`) still work: see `api_key_authenticate`.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"
        ADMIN = "admin", "Read, write and admin (webhooks)"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    # Unique per organization; indexed alone for the lookup of keys issued before the public id.
    prefix = models.CharField(max_length=16, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                F("organization"),
                Lower("name"),
                name="accounts_apikey_name_uniq",
                violation_error_message="An API key with this name already exists.",
            ),
            models.UniqueConstraint(
                fields=["organization", "prefix"], name="accounts_apikey_prefix_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(scope__in=["read", "write", "admin"]),
                name="accounts_apikey_scope_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.scope})"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class OutboxBase(models.Model):
    """What every outbox row holds (`accounts.outbox`): a side effect that leaves the
    database, written in the same transaction as the change that causes it.

    After commit it is handed to Celery; the beat task `outbox_flush_task` hands over what is
    still waiting (broker down, worker died) and what failed and is due again. A delivery
    claims the row first (a conditional update that also leases it: `next_attempt_at` moves
    past the delivery's time limit), so a row handed twice is performed once.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        TASK = "task", "Task"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting to be performed (or leased by a delivery)
        DONE = "done", "Done"
        FAILED = "failed", "Failed, retried at next_attempt_at"
        DEAD = "dead", "Dead (gave up)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    payload = models.JSONField(default=dict)
    # Rows of one organization with the same key that wait together are performed once.
    dedupe_key = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    handed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class OutboxMessage(OutboxBase):
    """An organization's side effect: an e-mail, a Celery task, a webhook delivery. Every
    row has its organization (the table is distributed by it, like every tenant table);
    e-mails to people outside any organization wait in `PersonalOutboxMessage`."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    class Meta(OutboxBase.Meta):
        verbose_name = "outbox message"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "done", "failed", "dead"]),
                name="accounts_outbox_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["email", "task", "webhook"]),
                name="accounts_outbox_kind_valid",
            ),
        ]
        indexes = [
            # An organization's messages by state (the admin, a tenant's read path).
            models.Index(
                fields=["organization", "status", "next_attempt_at"], name="accounts_outbox_org"
            ),
            # The waiting rows of one organization and key (coalescing).
            models.Index(
                fields=["organization", "dedupe_key", "status"],
                condition=~models.Q(dedupe_key=""),
                name="accounts_outbox_dedupe",
            ),
            # The flush: what is waiting and due, across organizations.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "failed"]),
                name="accounts_outbox_due",
            ),
            # Pruning finished rows.
            models.Index(
                fields=["done_at"], condition=models.Q(status="done"), name="accounts_outbox_done"
            ),
        ]


class PersonalOutboxMessage(OutboxBase):
    """An e-mail to a person outside any organization (a password reset's link): nobody's
    tenant data, so a small table of its own without `organization` (not distributed, no
    row-level security), delivered by the same code as `OutboxMessage`."""

    class Meta(OutboxBase.Meta):
        db_table = "accounts_personaloutbox"
        verbose_name = "personal outbox message"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "done", "failed", "dead"]),
                name="accounts_personaloutbox_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="email"), name="accounts_personaloutbox_kind_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "failed"]),
                name="accounts_personaloutbox_due",
            ),
            models.Index(
                fields=["done_at"],
                condition=models.Q(status="done"),
                name="accounts_personaloutbox_done",
            ),
        ]


# The events an endpoint may subscribe to (SPEC, "Webhooks"). The delivery app's events
# (waits, change orders, quality events) are accepted already; nothing emits them yet.
WEBHOOK_EVENTS = (
    "project.created",
    "project.transition",
    "feedback.received",
    "alert.raised",
    "wait.started",
    "wait.ended",
    "change_order.decided",
    "quality_event.created",
    "quality_event.overdue",
)


class Webhook(models.Model):
    """An organization's endpoint for events (`accounts.webhooks`). The secret
    (`whsec_` + base64 of 32 random bytes) signs every delivery: it is stored so the server
    can sign, and shown once, at creation. After `WEBHOOK_DISABLE_AFTER` failed events in a
    row the endpoint is disabled (`disabled_at`, `disabled_reason`) until an admin
    re-enables it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, editable=False)
    description = models.CharField(max_length=200, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Events given up in a row since the last success."
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "url"],
                name="accounts_webhook_url_uniq",
                violation_error_message="An endpoint with this URL already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one endpoint: the log admins read."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=50)
    payload = models.JSONField(default=dict)
    attempt = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "webhook", "-at"], name="accounts_webhookdelivery_log"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} #{self.attempt} -> {self.status_code}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
