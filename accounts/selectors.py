"""Reads for organizations and memberships."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.errors import DomainError
from accounts.models import AuditEvent, Membership, Organization, User, is_public_id


def organization_get_by_slug(*, slug: str) -> Organization:
    org = Organization.objects.filter(slug=(slug or "").strip().lower()).first()
    if org is None:
        raise DomainError(f"No organization with slug '{slug}'.", field="org")
    return org


def organization_get_by_public_id(*, public_id: str) -> Organization | None:
    """The organization a token names (API key, survey link), or None. Tokens come from
    outside, so anything that is not a well-formed public id is None without a query."""
    if not is_public_id(public_id):
        return None
    return Organization.objects.filter(public_id=public_id).first()


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name")
    )


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email")
    )


def member_get_by_email(
    *, organization: Organization, email: str | None, field: str
) -> User | None:
    """Resolve a user reference (by e-mail) inside the organization; None stays None."""
    if email is None or email == "":
        return None
    user = User.objects.filter(
        email__iexact=str(email).strip(), memberships__organization=organization
    ).first()
    if user is None:
        raise DomainError(f"'{email}' is not a member of this organization.", field=field)
    return user


def audit_list(
    *,
    organization: Organization,
    person: str = "",
    object_type: str = "",
    object_id: int | None = None,
    day_from=None,
    day_to=None,
) -> QuerySet[AuditEvent]:
    """The organization's audit events, newest first: by who acted (e-mail or key name,
    contains), object type, object and days (inclusive)."""
    qs = AuditEvent.objects.for_organization(organization)
    if person:
        qs = qs.filter(actor_label__icontains=person)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id is not None:
        qs = qs.filter(object_id=object_id)
    if day_from:
        qs = qs.filter(at__date__gte=day_from)
    if day_to:
        qs = qs.filter(at__date__lte=day_to)
    return qs.order_by("-at", "-id")
