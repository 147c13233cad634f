"""The senior-leader rule: a client with open work whose playbook wants a senior leader every
N days gets one alert per silence, at the moment the N days are up, and it clears itself when
a senior leader joins a touchpoint."""

from __future__ import annotations

import pytest

from engagement.models import Alert
from engagement.services.alerts import alert_resolve, alerts_run_rules
from engagement.services.playbooks import playbook_map, playbooks_ensure
from engagement.services.settings import playbook_update
from tests.engagement.conftest import at, move
from tests.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


def senior_alerts(world, **filters):
    return list(
        Alert.objects.for_organization(world.org)
        .filter(kind="senior_leader", **filters)
        .order_by("id")
    )


def run(world):
    return alerts_run_rules(organization=world.org)["senior_leader"]


def test_fires_when_the_gap_is_reached_once_and_clears_with_a_senior_touchpoint(world, clock):
    every = playbook_map(organization=world.org)["consultative"].senior_leader_every_days
    assert every == 30
    clock(at(0))
    TouchpointFactory(
        client=world.client, organization=world.org, at=at(0), senior_leader_present=True
    )
    clock(at(every, minutes=-1))
    assert run(world) == {"raised": 0, "cleared": 0}
    clock(at(every))
    assert run(world)["raised"] == 1
    [alert] = senior_alerts(world)
    assert alert.assignee == world.am.user and alert.client == world.client
    assert "no senior leader for 30 days (playbook: every 30)" in alert.title
    # A touchpoint without a senior leader changes nothing; running again raises nothing.
    TouchpointFactory(client=world.client, organization=world.org, at=at(every, hours=1))
    clock(at(every + 1))
    assert run(world) == {"raised": 0, "cleared": 0}
    # A senior leader joins: the cause is gone, the alert resolves itself.
    TouchpointFactory(
        client=world.client, organization=world.org, at=at(every + 2), senior_leader_present=True
    )
    clock(at(every + 2, hours=1))
    assert run(world) == {"raised": 0, "cleared": 1}
    alert.refresh_from_db()
    assert alert.resolved_at == at(every + 2, hours=1)


def test_resolved_by_hand_is_not_raised_again_for_the_same_silence(world, clock):
    clock(at(0))
    # No senior touchpoint ever: the clock runs from the first open project (opened at -60).
    assert run(world)["raised"] == 1
    [alert] = senior_alerts(world)
    assert "no senior leader for 60 days" in alert.title
    alert_resolve(actor=world.am, alert_id=alert.pk, note="VP visit booked for next week")
    clock(at(1))
    assert run(world)["raised"] == 0
    assert len(senior_alerts(world)) == 1


def test_no_alert_without_open_work_or_when_the_playbook_does_not_ask(world, clock, org):
    clock(at(0))
    move(world, "lost")
    assert run(world) == {"raised": 0, "cleared": 0}
    assert senior_alerts(world) == []


def test_playbook_without_senior_expectation(world, clock):
    clock(at(0))
    playbooks_ensure(organization=world.org)
    consultative = next(
        p
        for p in playbook_map(organization=world.org).values()
        if p.service_model == "consultative"
    )
    playbook_update(actor=world.admin, playbook_id=consultative.pk, senior_leader_expected=False)
    assert run(world) == {"raised": 0, "cleared": 0}


def test_stays_inside_the_organization(world, other_world, clock):
    clock(at(0))
    run(world)
    alerts_run_rules(organization=other_world.org)
    assert all(a.organization_id == world.org.pk for a in senior_alerts(world))
    assert not Alert.objects.for_organization(other_world.org).filter(client=world.client).exists()
