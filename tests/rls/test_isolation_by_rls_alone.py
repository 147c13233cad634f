"""The isolation matrix again, on PostgreSQL, with the application's organization filter
switched off (`TENANCY_APP_FILTER = False`): every foreign object must still be a 404 and
absent from every list, now because row-level security alone hides it.

Run for every operation against the other organization's objects, and for the lists against
one's own (a list is where a missing filter would leak), as an admin's session and an admin
key."""

from __future__ import annotations

import pytest

from tests.api.test_isolation_matrix import CASES, world  # noqa: F401 - the fixture
from tests.api.test_isolation_matrix import test_isolation_matrix as matrix_case

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# Row-level security does not know roles: one principal per way in (a session, an API key),
# each with every right, so every operation reaches its lookup instead of stopping at a 403.
RLS_PRINCIPALS = {"role:admin", "key:admin"}
RLS_CASES = [
    c
    for c in CASES
    if c[2] in RLS_PRINCIPALS and (c[3] == "other" or (c[1] == "GET" and "{id}" not in c[0]))
]


@pytest.mark.parametrize(
    ("path", "method", "who", "target"),
    RLS_CASES,
    ids=[f"{m} {p} {w} {t}" for p, m, w, t in RLS_CASES],
)
def test_isolation_by_rls_alone(requires_rls, world, settings, path, method, who, target):  # noqa: F811
    settings.TENANCY_APP_FILTER = False
    matrix_case(world, path, method, who, target)


def test_the_application_filter_is_really_off(requires_rls, world, settings):  # noqa: F811
    """Without a scope and with the filter off, a tenant query reads both organizations: so
    the matrix above is served by the database, not by the application."""
    from journey.models import Client

    own, other = world
    settings.TENANCY_APP_FILTER = False
    orgs = set(Client.objects.for_organization(own.org).values_list("organization_id", flat=True))
    assert {own.org.pk, other.org.pk} <= orgs
