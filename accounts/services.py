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
from accounts.models import ApiKey, Membership, Organization, Role, User, is_public_id
from accounts.permissions import Actor
from accounts.selectors import organization_get_by_public_id


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
# A key is `cdmo_<organization public id>_<prefix>_<secret>`: the public id is lowercase base32
# and the prefix hex, neither contains `_`; the secret (`token_urlsafe`) may, so a key is split
# from the left at most three times. Keys issued before the public id existed are
# `cdmo_<prefix>_<secret>` (a 12-character prefix, never a well-formed 10-character public id).
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
    raw = f"{KEY_PREFIX}_{actor.organization.public_id}_{prefix}_{secrets.token_urlsafe(32)}"
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


def _api_key_find(raw: str) -> ApiKey | None:
    """The key `raw` claims to be, found inside the organization it names (its hash is not
    checked here). What follows `cdmo_` decides the format: a well-formed public id, or else
    the prefix of a key issued before (`_api_key_find_legacy`)."""
    parts = raw.split("_", 3)
    if len(parts) < 3 or parts[0] != KEY_PREFIX:
        return None
    if not is_public_id(parts[1]):
        return _api_key_find_legacy(raw)
    organization = organization_get_by_public_id(public_id=parts[1])
    if organization is None or len(parts) != 4:
        return None
    return (
        ApiKey.objects.for_organization(organization)
        .filter(prefix=parts[2])
        .select_related("organization")
        .first()
    )


def _api_key_find_legacy(raw: str) -> ApiKey | None:
    """A key issued before keys carried their organization's public id: `cdmo_<prefix>_<secret>`.

    Such a key does not say which organization it belongs to, so this is the one lookup that
    runs across organizations (by the prefix, with its own index). Prefixes are unique only
    per organization now, so every key with the prefix is compared with the hash (in practice
    one). It exists so that integrations set up before keep working; admins should rotate
    these keys (create a new one, then revoke the old), after which this path can go.
    """
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1]:
        return None
    digest = _hash_key(raw)
    candidates = (
        ApiKey.objects.unscoped_dangerously()
        .filter(prefix=parts[1])
        .select_related("organization")
        .order_by("pk")[:10]
    )
    for key in candidates:
        if hmac.compare_digest(key.key_hash, digest):
            return key
    return None


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The usable key matching `raw`, or None (unknown, malformed, revoked or expired).

    The organization comes from the key itself (its public id), then the key from its prefix
    inside that organization, and the SHA-256 of the whole key, compared in constant time,
    proves it: a correct prefix and secret under another organization's public id is refused.
    Keys issued before the public id go through `_api_key_find_legacy`. Marks `last_used_at`
    at most once a minute.
    """
    raw = raw or ""
    key = _api_key_find(raw)
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
