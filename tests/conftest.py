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
