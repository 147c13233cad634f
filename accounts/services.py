"""Writes for organizations, users and memberships."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.audit import audit_record, snapshot
from accounts.errors import DomainError, PermissionDeniedError
from accounts.models import (
    ApiKey,
    Invitation,
    Membership,
    Organization,
    Role,
    User,
    is_public_id,
)
from accounts.outbox import email_enqueue
from accounts.permissions import Actor, Perm
from accounts.rls import deleting_organization
from accounts.selectors import organization_get_by_public_id
from accounts.tenancy import organization_scope


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
    with organization_scope(org):  # its first rows: the new organization's scope
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


@transaction.atomic
def organization_delete(*, organization: Organization) -> None:
    """Delete a tenant and every row it owns, its audit journal included: the one case in
    which the journal loses rows (PostgreSQL's append-only trigger allows it for this
    organization, in this transaction only)."""
    with organization_scope(organization):
        deleting_organization(organization.pk)
        organization.delete()


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
        if membership.role == Role.ADMIN:
            _admins_lock(organization=organization, actor=actor)
            _ensure_another_admin(organization=organization, membership=membership)
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
KEY_MAX_YEARS = 10


def _years_ahead(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February, years on
        return moment.replace(year=moment.year + years, day=28)


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
    if not name.isprintable():
        raise DomainError("Only printable characters, on one line.", field="name")
    if scope not in ApiKey.Scope.values:
        raise DomainError("Scope is 'read', 'write' or 'admin'.", field="scope")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise DomainError("The expiry must be in the future.", field="expires_at")
    # Up to the end of the day ten years ahead (a date picked in a form ends its day).
    if expires_at is not None and expires_at > _years_ahead(now, KEY_MAX_YEARS) + dt.timedelta(
        days=1
    ):
        raise DomainError(
            f"The expiry must be at most {KEY_MAX_YEARS} years ahead.", field="expires_at"
        )
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
    with organization_scope(organization):
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
        with organization_scope(key.organization_id):
            ApiKey.objects.for_organization(key.organization_id).filter(pk=key.pk).update(
                last_used_at=now
            )
        key.last_used_at = now
    return key


# --- Members: roles, removal, the last-admin rule -------------------------------------------
def _admins_lock(*, organization: Organization, actor: Actor) -> set[int]:
    """Lock the organization's admin memberships (PostgreSQL; SQLite serializes writers
    anyway) and return their user ids, read after the lock. Two admins demoting each other
    at once then run one after the other, and the second sees the first's change. An actor
    who stopped being an admin meanwhile is refused."""
    admin_users = set(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Role.ADMIN)
        .values_list("user_id", flat=True)
    )
    if actor.user is not None and actor.api_key_id is None and actor.user.pk not in admin_users:
        raise PermissionDeniedError("You are no longer an admin of this organization.")
    return admin_users


def _ensure_another_admin(*, organization: Organization, membership: Membership) -> None:
    others = (
        Membership.objects.filter(organization=organization, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )
    if not others:
        raise DomainError(
            f"{membership.user.email} is the organization's last admin: make someone else "
            "an admin first.",
            field="role",
            code="last_admin",
        )


def _member_locked(*, organization: Organization, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .filter(organization=organization, pk=membership_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404("No member with that id.")
    return membership


@transaction.atomic
def membership_change_role(*, actor: Actor, membership_id: int, role: str) -> Membership:
    """Give a member another role. The organization never loses its last admin: the check
    and the write run under a lock on its admin memberships (see `_admins_lock`)."""
    actor.require(Perm.MEMBERS_MANAGE)
    organization = actor.organization
    if role not in Role.values:
        raise DomainError(
            f"Unknown role '{role}'. Choose one of: {', '.join(Role.values)}.", field="role"
        )
    _admins_lock(organization=organization, actor=actor)
    membership = _member_locked(organization=organization, membership_id=membership_id)
    before = membership.role
    if before == role:
        return membership
    if before == Role.ADMIN:
        _ensure_another_admin(organization=organization, membership=membership)
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="update",
        instance=membership,
        changes={"role": [before, role]},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership_id: int) -> Membership:
    """Take a member out of the organization (their account stays; other organizations'
    memberships are untouched). Never the last admin, not even oneself."""
    actor.require(Perm.MEMBERS_MANAGE)
    organization = actor.organization
    _admins_lock(organization=organization, actor=actor)
    membership = _member_locked(organization=organization, membership_id=membership_id)
    if membership.role == Role.ADMIN:
        _ensure_another_admin(organization=organization, membership=membership)
    audit_record(
        actor=actor,
        action="delete",
        instance=membership,
        changes={"user": [membership.user.email, None], "role": [membership.role, None]},
    )
    membership.delete()
    return membership


# --- Invitations ----------------------------------------------------------------------------
# An invitation link carries `inv_<organization public id>_<secret>`: the public id finds the
# organization, the SHA-256 of the whole token the invitation inside it. Only the hash is kept.
INVITATION_PREFIX = "inv"
INVITATION_TOKEN_MAX = 200  # longer is no token of ours: refused before hashing


def _hash_invitation(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


@transaction.atomic
def invitation_create(*, actor: Actor, email: str, role: str) -> tuple[Invitation, str]:
    """Invite someone by e-mail to join the organization with a role; returns the
    invitation and its token (which only the e-mail carries).

    Inviting a member is an error. Inviting an address that already has a pending
    invitation revokes that one and sends a new link, so exactly one link works."""
    actor.require(Perm.MEMBERS_MANAGE)
    organization = actor.organization
    email = _clean_email(email)
    if role not in Role.values:
        raise DomainError(
            f"Unknown role '{role}'. Choose one of: {', '.join(Role.values)}.", field="role"
        )
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise DomainError(f"{email} is already a member of this organization.", field="email")
    now = timezone.now()
    pending = Invitation.objects.for_organization(organization).filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )
    for old in pending:
        old.revoked_at = now
        old.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="update",
            instance=old,
            changes={"revoked_at": [None, now.isoformat()]},
            reason="Invited again: a new link replaces this one.",
        )
    raw = f"{INVITATION_PREFIX}_{organization.public_id}_{secrets.token_urlsafe(32)}"
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=_hash_invitation(raw),
        invited_by=actor.user,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    audit_record(
        actor=actor,
        action="create",
        instance=invitation,
        changes={
            "email": [None, email],
            "role": [None, role],
            "expires_at": [None, invitation.expires_at.isoformat()],
        },
    )
    link = settings.SITE_URL + reverse("accounts:invitation_accept", args=[raw])
    inviter = _one_line(actor.user.get_full_name()) if actor.user else "An admin"
    org_name = _one_line(organization.name)
    role_label = Role(role).label
    expires = timezone.localtime(invitation.expires_at, zoneinfo.ZoneInfo(organization.timezone))
    email_enqueue(
        organization=organization,
        to=[email],
        subject=f"Invitation to join {org_name} on CDMO Journey",
        body=(
            f"{inviter} invited you to join {org_name} on CDMO Journey as {role_label}.\n\n"
            f"Accept the invitation here:\n{link}\n\n"
            f"The link works once and expires on {expires:%d %B %Y at %H:%M} ({expires:%Z}). "
            "If you did not expect this invitation, ignore this e-mail.\n"
        ),
    )
    return invitation, raw


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation: its link stops working."""
    actor.require(Perm.MEMBERS_MANAGE)
    invitation = (
        Invitation.objects.for_organization(actor.organization).filter(pk=invitation_id).first()
    )
    if invitation is None:
        raise Http404("No invitation with that id.")
    if invitation.accepted_at is not None:
        raise DomainError("This invitation was already accepted.", code="used")
    now = timezone.now()
    revoked = (
        Invitation.objects.for_organization(actor.organization)
        .filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True)
        .update(revoked_at=now)
    )
    if revoked:
        invitation.revoked_at = now
        audit_record(
            actor=actor,
            action="update",
            instance=invitation,
            changes={"revoked_at": [None, now.isoformat()]},
        )
    return invitation


@dataclass(frozen=True)
class InvitationState:
    """What a link leads to: `open`, or why not (`expired`, `used`, `revoked`, `unknown`)."""

    status: str
    invitation: Invitation | None = None


def invitation_lookup(*, token: str) -> InvitationState:
    """The invitation a link's token names. The organization comes from the token itself,
    then the invitation from the token's hash inside it, so a malformed token, an unknown
    one and another organization's secret under this public id are all `unknown`."""
    token = token or ""
    parts = token.split("_", 2)
    if (
        len(token) > INVITATION_TOKEN_MAX
        or len(parts) != 3
        or parts[0] != INVITATION_PREFIX
        or not parts[2]
    ):
        return InvitationState("unknown")
    organization = organization_get_by_public_id(public_id=parts[1])
    if organization is None:
        return InvitationState("unknown")
    with organization_scope(organization):  # the organization the link names, nothing else
        invitation = (
            Invitation.objects.for_organization(organization)
            .filter(token_hash=_hash_invitation(token))
            .select_related("organization", "invited_by")
            .first()
        )
    if invitation is None:
        return InvitationState("unknown")
    if invitation.accepted_at is not None:
        return InvitationState("used", invitation)
    if invitation.revoked_at is not None:
        return InvitationState("revoked", invitation)
    if invitation.expires_at <= timezone.now():
        return InvitationState("expired", invitation)
    return InvitationState("open", invitation)


@transaction.atomic
def invitation_accept(
    *, token: str, user: User | None, full_name: str = "", password: str = ""
) -> Membership:
    """Join the organization an invitation names, once.

    The invitee is not a member yet, so there is no `Actor` to check: the token is the
    credential. `user` is the logged-in person (their e-mail must be the invited one);
    None means someone without an account, who sets a name and a password (Django's
    validators) and gets a user. The invitation is claimed with a conditional update, so of
    two simultaneous accepts exactly one creates a membership; the other gets `used`.
    """
    state = invitation_lookup(token=token)
    if state.status != "open":
        raise DomainError("This invitation link no longer works.", code=state.status)
    with organization_scope(state.invitation.organization):
        return _invitation_claim(
            invitation=state.invitation, user=user, full_name=full_name, password=password
        )


def _invitation_claim(
    *, invitation: Invitation, user: User | None, full_name: str, password: str
) -> Membership:
    organization = invitation.organization
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise DomainError(
                f"There is already an account for {invitation.email}: log in to accept.",
                code="login_required",
            )
        full_name = _one_line(full_name)
        if not full_name:
            raise DomainError("Tell us your name.", field="full_name")
        if len(full_name) > 200 or not full_name.isprintable():
            raise DomainError("At most 200 printable characters.", field="full_name")
        try:
            validate_password(password, user=User(email=invitation.email, full_name=full_name))
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), field="password") from None
    elif user.email.lower() != invitation.email.lower():
        raise DomainError(
            f"This invitation is for {invitation.email}; you are logged in as {user.email}.",
            code="wrong_user",
        )
    now = timezone.now()
    claimed = (
        Invitation.objects.for_organization(organization)
        .filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        )
        .update(accepted_at=now)
    )
    if not claimed:
        raise DomainError("This invitation has just been used or withdrawn.", code="used")
    if user is None:
        user = User.objects.create_user(
            email=invitation.email, password=password, full_name=full_name
        )
    Invitation.objects.for_organization(organization).filter(pk=invitation.pk).update(
        accepted_by=user
    )
    actor = Actor(organization=organization, user=user, role=invitation.role, label=user.email)
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is None:
        membership = Membership.objects.create(
            organization=organization, user=user, role=invitation.role
        )
        audit_record(
            actor=actor,
            action="create",
            instance=membership,
            changes={"user": [None, user.email], "role": [None, invitation.role]},
            reason=f"Accepted the invitation sent {invitation.created_at:%Y-%m-%d}.",
        )
    # Else: made a member another way meanwhile; the invitation is used and the role stays.
    audit_record(
        actor=actor,
        action="update",
        instance=invitation,
        changes={"accepted_at": [None, now.isoformat()], "accepted_by": [None, user.email]},
    )
    return membership
