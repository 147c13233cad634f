from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import Actor
from tests.factories import MembershipFactory, OrganizationFactory


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="alpha", name="Alpha CDMO")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(slug="beta", name="Beta CDMO")


@pytest.fixture
def make_actor(db):
    def _make(organization, role: str = Role.ADMIN, **user_kwargs) -> Actor:
        membership = MembershipFactory(organization=organization, role=role, **user_kwargs)
        return Actor.from_membership(membership)

    return _make


@pytest.fixture
def admin(org, make_actor) -> Actor:
    return make_actor(org, Role.ADMIN)


@pytest.fixture
def am(org, make_actor) -> Actor:
    return make_actor(org, Role.ACCOUNT_MANAGER)


@pytest.fixture
def pm(org, make_actor) -> Actor:
    return make_actor(org, Role.PROJECT_MANAGER)


@pytest.fixture
def executive(org, make_actor) -> Actor:
    return make_actor(org, Role.EXECUTIVE)


@pytest.fixture
def viewer(org, make_actor) -> Actor:
    return make_actor(org, Role.VIEWER)


@pytest.fixture
def other_admin(other_org, make_actor) -> Actor:
    return make_actor(other_org, Role.ADMIN)


@pytest.fixture
def days_ago():
    now = timezone.now()

    def _at(days: float) -> dt.datetime:
        return now - dt.timedelta(days=days)

    return _at


# --- PostgreSQL roles: create and migrate the test database as the owner, run as the app ---
@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """With DATABASE_OWNER_URL set (CI), the test database is created and migrated by the
    owner; `django_db_setup` below then hands the connection to the app role, which owns no
    table and cannot bypass row-level security, as in production."""
    from django.conf import settings
    from django.db import connection

    if settings.DATABASE_OWNER and connection.vendor == "postgresql":
        connection.close()
        connection.settings_dict["USER"] = settings.DATABASE_OWNER["USER"]
        connection.settings_dict["PASSWORD"] = settings.DATABASE_OWNER.get("PASSWORD", "")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.conf import settings
    from django.db import connection

    if not (settings.DATABASE_OWNER and connection.vendor == "postgresql"):
        yield
        return
    app_user, app_password = (
        settings.DATABASE_APP_ROLE,
        settings.DATABASES["default"].get("PASSWORD", ""),
    )
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Test only: the transactional tests empty tables between tests with TRUNCATE, which
        # row-level security does not cover; production never grants it.
        cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{app_user}"')
    connection.close()
    connection.settings_dict.update({"USER": app_user, "PASSWORD": app_password})
    yield
    connection.close()
    connection.settings_dict.update(
        {
            "USER": settings.DATABASE_OWNER["USER"],
            "PASSWORD": settings.DATABASE_OWNER.get("PASSWORD", ""),
        }
    )


@pytest.fixture(autouse=True)
def _fresh_local_cache():
    """Each test starts with an empty per-process cache: counters kept there (failed API
    keys per address, password-reset e-mails per address) never leak from one test into
    the next. Only the local-memory cache: never flush a shared Redis."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()
