"""Reads for organizations and memberships."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from django.db.models import F, Q, QuerySet
from django.http import Http404

from accounts.errors import DomainError
from accounts.models import (
    ApiKey,
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    User,
    is_public_id,
)
from accounts.tenancy import all_organizations_dangerously


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


def memberships_for_user(*, user: User) -> list[Membership]:
    """A person's memberships, in every organization: the one read of people that crosses
    organizations (login, the organization switcher), so it says so to the database."""
    with all_organizations_dangerously("a signed-in person's memberships"):
        return list(
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


def invitation_pending_list(*, organization: Organization, now) -> QuerySet[Invitation]:
    """Invitations that can still be accepted, newest first, with who sent them."""
    return (
        Invitation.objects.for_organization(organization)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def membership_get(*, organization: Organization, membership_id: int) -> Membership:
    membership = (
        Membership.objects.filter(organization=organization, pk=membership_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404(f"No member with id {membership_id}.")
    return membership


def api_key_get(*, organization: Organization, api_key_id: int) -> ApiKey:
    key = (
        ApiKey.objects.for_organization(organization)
        .filter(pk=api_key_id)
        .select_related("created_by")
        .first()
    )
    if key is None:
        raise Http404(f"No API key with id {api_key_id}.")
    return key


def api_key_list(*, organization: Organization) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.for_organization(organization)
        .select_related("created_by")
        # Usable keys first (never revoked), then the revoked ones; newest first in each.
        .order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-id")
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


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


class AuditCursor(NamedTuple):
    """Where a page of audit events ends (its last event's time and id): the next page
    starts strictly after it in the order newest first, so a page never repeats a row even
    when new events arrive meanwhile."""

    at: dt.datetime
    id: int

    @property
    def token(self) -> str:
        """The cursor as a URL-safe string: microseconds since 1970, a dash, the id."""
        return f"{(self.at - _EPOCH) // _MICROSECOND}-{self.id}"

    @classmethod
    def parse(cls, token: str | None) -> AuditCursor | None:
        """The cursor a token names, or None for anything that is not one."""
        micros, _, pk = (token or "").partition("-")
        if not (micros.isdigit() and pk.isdigit()) or len(micros) > 17 or len(pk) > 18:
            return None
        try:
            return cls(_EPOCH + int(micros) * _MICROSECOND, int(pk))
        except OverflowError:
            return None


def audit_events_for_objects(
    *,
    organization: Organization,
    objects: Iterable[tuple[str, int | Iterable[int]]],
    before: AuditCursor | None = None,
    limit: int = 10,
) -> tuple[list[AuditEvent], AuditCursor | None]:
    """One page of the audit events of some objects of one organization, newest first.

    `objects` are (object type, id or ids) pairs, e.g. `[("journey.project", 7),
    ("journey.milestone", [3, 4])]`. One query per page: each pair is a lookup on the
    (organization, object_type, object_id) index (ids as a list: a subquery under the OR
    would make PostgreSQL filter every event of the organization instead), the page is the
    `limit` newest rows after `before`. Returns the events (with their acting user and key)
    and the cursor of the next page, None when there is none.
    """
    match = Q()
    for object_type, ids in objects:
        ids = [ids] if isinstance(ids, int) else list(ids)
        if ids:
            match |= Q(object_type=object_type, object_id__in=ids)
    if not match:
        return [], None
    qs = AuditEvent.objects.for_organization(organization).filter(match)
    if before is not None:
        qs = qs.filter(Q(at__lt=before.at) | Q(at=before.at, id__lt=before.id))
    rows = list(
        qs.select_related("actor_user", "actor_api_key").order_by("-at", "-id")[: limit + 1]
    )
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, AuditCursor(rows[-1].at, rows[-1].pk)
