"""Writes for organizations, users and memberships."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.audit import audit_record, snapshot
from accounts.errors import DomainError, PermissionDeniedError
from accounts.models import ApiKey, Membership, Organization, Role, User
from accounts.permissions import Actor


def _clean_email(email: str, field: str = "email") -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(f"'{email}' is not a valid e-mail address.", field=field) from None
    return email


def user_get_or_create(
    *, email: str, full_name: str = "", password: str | None = None
) -> tuple[User, bool]:
    email = _clean_email(email)
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    user = User.objects.create_user(email=email, password=password, full_name=full_name)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user, True


@transaction.atomic
def organization_create(
    *,
    slug: str,
    name: str,
    admin_email: str,
    timezone: str = "UTC",
    admin_password: str | None = None,
) -> tuple[Organization, User, bool]:
    """Create a tenant and its first admin (a new user when the e-mail is unknown)."""
    slug = (slug or "").strip().lower()
    org = Organization(slug=slug, name=(name or "").strip(), timezone=timezone)
    if not org.name:
        raise DomainError("The organization needs a name.", field="name")
    if timezone not in zoneinfo.available_timezones():
        raise DomainError(f"Unknown time zone '{timezone}'.", field="timezone")
    try:
        org.full_clean(exclude=["timezone"], validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(" ".join(messages), field=field) from None
    if Organization.objects.filter(slug=slug).exists():
        raise DomainError(f"An organization with slug '{slug}' already exists.", field="slug")
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError:
        raise DomainError(
            f"An organization with slug '{slug}' already exists.", field="slug"
        ) from None
    user, created = user_get_or_create(email=admin_email, password=admin_password)
    membership = Membership.objects.create(user=user, organization=org, role=Role.ADMIN)
    actor = Actor.system(org, label="create_org")
    audit_record(
        actor=actor,
        action="create",
        instance=org,
        changes={k: [None, v] for k, v in snapshot(org).items()},
    )
    audit_record(
        actor=actor,
        action="create",
        instance=membership,
        changes={"user": [None, user.email], "role": [None, Role.ADMIN]},
    )
    organization_setup(organization=org)
    return org, user, created


def organization_setup(*, organization: Organization) -> None:
    """What the apps above give a new organization (its default playbooks, ...): the
    functions `settings.ORGANIZATION_SETUP` names, in its transaction. Wired in settings so
    accounts imports no app above it; each function is idempotent."""
    for path in settings.ORGANIZATION_SETUP:
        import_string(path)(organization=organization)


@transaction.atomic
def membership_add(
    *,
    organization: Organization,
    email: str,
    role: str,
    actor: Actor,
    full_name: str = "",
    password: str | None = None,
) -> tuple[Membership, bool]:
    """Add a member (creating the user if needed), or change an existing member's role."""
    if role not in Role.values:
        raise DomainError(
            f"Unknown role '{role}'. Choose one of: {', '.join(Role.values)}.", field="role"
        )
    user, user_created = user_get_or_create(email=email, full_name=full_name, password=password)
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is None:
        membership = Membership.objects.create(organization=organization, user=user, role=role)
        audit_record(
            actor=actor,
            action="create",
            instance=membership,
            changes={"user": [None, user.email], "role": [None, role]},
        )
    elif membership.role != role:
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            actor=actor, action="update", instance=membership, changes={"role": [before, role]}
        )
    return membership, user_created


# --- API keys -------------------------------------------------------------------------------
KEY_PREFIX = "cdmo"


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, actor: Actor, name: str, scope: str = ApiKey.Scope.READ, expires_at=None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never stored nor shown again."""
    if actor.api_key_id is None and not actor.is_admin:
        raise PermissionDeniedError("Only admins manage API keys.")
    if actor.api_key_id is not None:
        raise PermissionDeniedError("API keys cannot create API keys.")
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the key a name (what uses it).", field="name")
    if len(name) > 100:
        raise DomainError("At most 100 characters.", field="name")
    if scope not in ApiKey.Scope.values:
        raise DomainError("Scope is 'read' or 'write'.", field="scope")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError("The expiry must be in the future.", field="expires_at")
    if ApiKey.objects.for_organization(actor.organization).filter(name__iexact=name).exists():
        raise DomainError("An API key with this name already exists.", field="name")
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        organization=actor.organization,
        name=name,
        scope=scope,
        prefix=prefix,
        key_hash=_hash_key(raw),
        created_by=actor.user,
        expires_at=expires_at,
    )
    try:
        with transaction.atomic():
            key.save()
    except IntegrityError:
        raise DomainError("An API key with this name already exists.", field="name") from None
    audit_record(
        actor=actor,
        action="create",
        instance=key,
        changes={"name": [None, name], "scope": [None, scope]},
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, actor: Actor, api_key_id: int) -> ApiKey:
    if not actor.is_admin or actor.api_key_id is not None:
        raise PermissionDeniedError("Only admins manage API keys.")
    key = ApiKey.objects.for_organization(actor.organization).filter(pk=api_key_id).first()
    if key is None:
        raise Http404("No API key with that id.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="update",
            instance=key,
            changes={"revoked_at": [None, key.revoked_at.isoformat()]},
        )
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The usable key matching `raw`, or None (unknown, malformed, revoked or expired).

    The lookup is by the public prefix, across organizations by necessity: the key itself is
    what names its organization. Marks `last_used_at` at most once a minute.
    """
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = (
        ApiKey.objects.unscoped_dangerously()
        .select_related("organization")
        .filter(prefix=parts[1])
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, _hash_key(raw)):
        return None
    now = timezone.now()
    if not key.is_usable(now):
        return None
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.for_organization(key.organization_id).filter(pk=key.pk).update(
            last_used_at=now
        )
        key.last_used_at = now
    return key
