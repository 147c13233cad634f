"""Client health against figures worked out by hand (see each test's arithmetic)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from engagement.models import Alert, ClientHealthSnapshot
from engagement.services.health import (
    at_risk_clients,
    client_health,
    client_health_list,
    client_health_stored,
    client_health_trend,
    health_refresh,
    health_snapshot_take,
)
from engagement.services.playbooks import health_weights
from engagement.services.settings import engagement_settings_update
from journey.services import feedback_create, touchpoint_create
from tests.engagement.conftest import at
from tests.factories import (
    ClientFactory,
    FeedbackFactory,
    MilestoneFactory,
    OrganizationFactory,
    ProjectFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


def d(y, m, day, h=12):
    return dt.datetime(y, m, day, h, tzinfo=dt.UTC)


@pytest.fixture
def crafted(world, clock):
    """At T0 (2026-03-02 09:00), for Novexa Bio (consultative):

    feedback   CSAT 4 -> 75, NPS 8 -> 80 in the last 180 days (an old CSAT 1 is outside):
               mean 77.5
    milestones completed in the window: due 02-10 done 02-09 (on time), due 02-15 done 02-15
               23:00 (on time: same date), due 02-20 done 02-21 (late); one open, due 02-25
               (overdue); one completed 200 days ago (outside): 2 / (3 + 1) = 50
    touchpoint the last one 21 days ago; both projects in assess, cadence 14:
               100 x (2 x 14 - 21) / 14 = 50
    alerts     one open alert: 100 - 25 = 75
    stuck      NOV-1 in assess since T0 - 60 d (target 45: stuck), NOV-2 since T0 - 10 d:
               1 of 2 -> 50
    score      (30 x 77.5 + 20 x 50 + 20 x 50 + 15 x 75 + 15 x 50) / 100 = 62
    """
    clock(at(-10))
    ProjectFactory(client=world.client, code="NOV-2", opened_at=at(-10))
    clock(at(0))
    p = world.project
    FeedbackFactory(project=p, organization=world.org, kind="csat", score=4, responded_at=at(-10))
    FeedbackFactory(project=p, organization=world.org, kind="nps", score=8, responded_at=at(-20))
    FeedbackFactory(project=p, organization=world.org, kind="csat", score=1, responded_at=at(-200))
    for due, done in [
        (dt.date(2026, 2, 10), d(2026, 2, 9)),
        (dt.date(2026, 2, 15), d(2026, 2, 15, 23)),
        (dt.date(2026, 2, 20), d(2026, 2, 21)),
        (dt.date(2026, 2, 25), None),
        (dt.date(2025, 8, 1), at(-200)),
    ]:
        MilestoneFactory(
            project=p, organization=world.org, phase="assess", due_date=due, completed_at=done
        )
    TouchpointFactory(client=world.client, organization=world.org, at=at(-30))
    TouchpointFactory(client=world.client, organization=world.org, at=at(-21))
    Alert.objects.create(
        organization=world.org,
        kind="cadence",
        cause_key="test:1",
        client=world.client,
        title="Call them",
        raised_at=at(-1),
    )
    return world


def test_each_component_and_the_score_by_hand(crafted):
    health = client_health(organization=crafted.org, client_id=crafted.client.pk)
    parts = health.as_dict()
    assert {k: v["score"] for k, v in parts.items()} == {
        "feedback": 77.5,
        "milestones": 50.0,
        "touchpoints": 50.0,
        "alerts": 75.0,
        "stuck": 50.0,
    }
    assert {k: v["weight"] for k, v in parts.items()} == {
        "feedback": 30,
        "milestones": 20,
        "touchpoints": 20,
        "alerts": 15,
        "stuck": 15,
    }
    assert parts["feedback"]["share"] == 0.3
    assert parts["milestones"]["detail"] == "2 of 3 completed on time, 1 open and overdue"
    assert parts["stuck"]["detail"] == "1 of 2 open project(s) past their phase target"
    assert health.score == 62
    assert not health.at_risk


def test_weights_are_stored_per_organization_and_change_the_score(crafted, other_world):
    # feedback 50, alerts 0: (50 x 77.5 + 20 x 50 + 20 x 50 + 15 x 50) / 105 = 63.095 -> 63
    engagement_settings_update(actor=crafted.admin, health_weights={"feedback": 50, "alerts": 0})
    health = client_health(organization=crafted.org, client_id=crafted.client.pk)
    assert health.score == 63
    assert health.as_dict()["alerts"]["counted"] is False
    assert health_weights(organization=other_world.org)["feedback"] == 30


@pytest.mark.parametrize(
    "weights",
    [
        {"mood": 5},
        {"feedback": -1},
        {"feedback": 101},
        {"feedback": "10"},
        "heavy",
        {"feedback": 0, "milestones": 0, "touchpoints": 0, "alerts": 0, "stuck": 0},
    ],
)
def test_bad_weights_are_refused(crafted, weights):
    from journey.errors import JourneyError

    with pytest.raises(JourneyError) as exc:
        engagement_settings_update(actor=crafted.admin, health_weights=weights)
    assert exc.value.field == "health_weights"
    assert health_weights(organization=crafted.org)["feedback"] == 30


def test_weights_need_an_admin(crafted):
    from accounts.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        engagement_settings_update(actor=crafted.am, health_weights={"feedback": 10})


def test_a_client_without_data_has_no_score_and_lists_last(crafted):
    quiet = ClientFactory(organization=crafted.org, name="Zeta Quiet")
    rows = client_health_list(organization=crafted.org)
    assert [r.client for r in rows] == [crafted.client, quiet]
    assert rows[1].score is None and not rows[1].at_risk


def test_at_risk_list(crafted, settings):
    assert at_risk_clients(organization=crafted.org) == []  # nothing stored yet
    health_refresh(organization=crafted.org, client_ids=[crafted.client.pk])
    assert at_risk_clients(organization=crafted.org) == []  # 62: above 60
    settings.HEALTH_AT_RISK_BELOW = 63
    assert [h.client for h in at_risk_clients(organization=crafted.org)] == [crafted.client]


def test_daily_snapshots_make_the_trend(crafted, clock):
    assert health_snapshot_take(organization=crafted.org) == 1
    assert health_snapshot_take(organization=crafted.org) == 1  # same day: replaced
    clock(at(1))
    TouchpointFactory(client=crafted.client, organization=crafted.org, at=at(1))
    health_snapshot_take(organization=crafted.org)
    trend = client_health_trend(organization=crafted.org, client_id=crafted.client.pk)
    # Day two: touchpoints 100 and cadence... (30x77.5 + 20x50 + 20x100 + 15x75 + 15x50)/100 = 72
    assert [(s.day, s.score) for s in trend] == [
        (dt.date(2026, 3, 2), 62),
        (dt.date(2026, 3, 3), 72),
    ]
    assert trend[0].components["feedback"]["score"] == 77.5
    assert ClientHealthSnapshot.objects.for_organization(crafted.org).count() == 2


def test_another_organizations_client_is_a_404(crafted, other_world):
    with pytest.raises(Http404):
        client_health(organization=other_world.org, client_id=crafted.client.pk)
    with pytest.raises(Http404):
        client_health_trend(organization=other_world.org, client_id=crafted.client.pk)
    assert [h.client for h in client_health_list(organization=other_world.org)] == [
        other_world.client
    ]


@pytest.mark.django_db(transaction=True)
def test_a_change_refreshes_the_clients_stored_health_after_commit(make_actor):
    """The path in production: a journey write, its commit, the refresh of that client's
    stored health (eager here), read by the list; a rolled-back write refreshes nothing."""
    org = OrganizationFactory()
    am = make_actor(org, "account_manager")
    mine = ClientFactory(organization=org, account_manager=am.user)
    other = ClientFactory(organization=org)
    project = ProjectFactory(client=mine, opened_at=timezone.now() - dt.timedelta(days=5))
    feedback_create(
        actor=am,
        project=project.pk,
        kind="csat",
        score=1,
        phase="assess",
        responded_at=timezone.now() - dt.timedelta(hours=1),
    )
    stored = {h.client_id: h for h in client_health_stored(organization=org)}
    assert set(stored) == {mine.pk}  # only the client the change touched
    assert stored[mine.pk].components["feedback"]["score"] == 0.0
    assert stored[mine.pk].score == client_health(organization=org, client_id=mine.pk).score
    with pytest.raises(RuntimeError), transaction.atomic():
        touchpoint_create(
            actor=am, client=other.pk, kind="call", at=timezone.now() - dt.timedelta(hours=1)
        )
        raise RuntimeError("rolled back")
    assert {h.client_id for h in client_health_stored(organization=org)} == {mine.pk}
    touchpoint_create(actor=am, client=other.pk, kind="call", at=timezone.now())
    assert {h.client_id for h in client_health_stored(organization=org)} == {mine.pk, other.pk}
