"""Writes for organizations, users and memberships."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from accounts.audit import audit_record, snapshot
from accounts.errors import DomainError
from accounts.models import Membership, Organization, Role, User
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
    return org, user, created


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
