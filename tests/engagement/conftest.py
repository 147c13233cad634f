"""A small world for the engagement tests: a consultative client with its account manager and
primary contact, a project managed by a PM with an executive sponsor, and helpers to read the
survey link out of the e-mail outbox and to freeze the clock."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
import time_machine
from django.core import mail
from django.test import TestCase

from accounts.models import Role
from accounts.permissions import Actor
from engagement.services.surveys import survey_send
from journey.services import feedback_create, project_transition
from tests.factories import ClientFactory, ContactFactory, ProjectFactory

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday morning, UTC
LINK = re.compile(r"/survey/([A-Za-z0-9_.-]{20,})/")


def at(days: float = 0, *, hours: float = 0, minutes: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hours, minutes=minutes)


@pytest.fixture
def clock():
    """`clock(when)` freezes time there (moves it if already frozen)."""
    travellers = []

    def _freeze(when: dt.datetime):
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(when, tick=False)
        traveller.start()
        travellers.append(traveller)
        return when

    yield _freeze
    while travellers:
        travellers.pop().stop()


@pytest.fixture
def key_client():
    from rest_framework.test import APIClient

    from tests.api.conftest import make_key

    def _client(organization, scope: str = "write") -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(organization, scope)}")
        return client

    return _client


@pytest.fixture
def session_client():
    from rest_framework.test import APIClient

    def _client(user) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return _client


def tokens_in_outbox() -> list[str]:
    return [m for message in mail.outbox for m in LINK.findall(message.body)]


@dataclass
class World:
    org: object
    admin: Actor
    am: Actor
    pm: Actor
    sponsor: Actor
    viewer: Actor
    client: object
    contact: object
    project: object
    system: Actor


@pytest.fixture
def world(org, make_actor, clock) -> World:
    """Built at T0 - 60 days; the project opened then and sits in assess."""
    clock(at(-60))
    admin = make_actor(org, Role.ADMIN)
    am = make_actor(org, Role.ACCOUNT_MANAGER, user__full_name="Amira AM")
    pm = make_actor(org, Role.PROJECT_MANAGER, user__full_name="Paul PM")
    sponsor = make_actor(org, Role.EXECUTIVE, user__full_name="Evelyn Exec")
    viewer = make_actor(org, Role.VIEWER)
    client = ClientFactory(organization=org, name="Novexa Bio", account_manager=am.user)
    contact = ContactFactory(
        client=client,
        organization=org,
        name="Dana Sponsor",
        is_primary=True,
        email="dana@novexa.example",
    )
    project = ProjectFactory(
        client=client,
        code="NOV-1",
        project_manager=pm.user,
        opened_at=at(-60),
    )
    project.executive_sponsor = sponsor.user
    project.save(update_fields=["executive_sponsor"])
    return World(
        org=org,
        admin=admin,
        am=am,
        pm=pm,
        sponsor=sponsor,
        viewer=viewer,
        client=client,
        contact=contact,
        project=project,
        system=Actor.system(org),
    )


@pytest.fixture
def other_world(other_org, make_actor) -> World:
    admin = make_actor(other_org, Role.ADMIN)
    am = make_actor(other_org, Role.ACCOUNT_MANAGER)
    client = ClientFactory(organization=other_org, account_manager=am.user)
    contact = ContactFactory(client=client, organization=other_org, is_primary=True)
    project = ProjectFactory(client=client, opened_at=at(-60))
    return World(
        org=other_org,
        admin=admin,
        am=am,
        pm=am,
        sponsor=am,
        viewer=am,
        client=client,
        contact=contact,
        project=project,
        system=Actor.system(other_org),
    )


def move(world: World, to: str, when: dt.datetime | None = None, actor: Actor | None = None):
    return project_transition(
        actor=actor or world.system, project_id=world.project.pk, to=to, at=when
    )


def committed():
    """Run what waits for the commit (outbox rows: e-mails, tasks) at the end of the block,
    as a real commit would; the test's own transaction is never committed."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def send_request(world: World, *, kind: str = "csat", phase: str = "assess") -> tuple:
    """A manual request, sent now: (feedback, token)."""
    feedback = feedback_create(
        actor=world.am, project=world.project.pk, contact=world.contact.pk, kind=kind, phase=phase
    )
    before = len(mail.outbox)
    with committed():
        assert survey_send(organization=world.org, feedback_id=feedback.pk)
    token = LINK.findall(mail.outbox[before].body)[0]
    feedback.refresh_from_db()
    return feedback, token
