"""Playbooks per service model: defaults on demand, admin edits through the service, the
rules follow the edits, and target suggestions from the journal (p50 worked out by hand)."""

from __future__ import annotations

import pytest
from django.http import Http404

from accounts.errors import PermissionDeniedError
from accounts.models import AuditEvent
from engagement.models import Alert, Playbook
from engagement.services.alerts import alerts_run_rules
from engagement.services.playbooks import (
    playbook_map,
    playbook_target_suggestions,
    playbooks_ensure,
)
from engagement.services.settings import playbook_update
from journey.errors import JourneyError
from journey.services import project_transition
from metrics.services import metrics_recompute
from tests.engagement.conftest import at
from tests.factories import ClientFactory, ProjectFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def test_defaults_without_writing_then_created_on_demand_once(world, other_world):
    defaults = playbook_map(organization=world.org)
    assert not Playbook.objects.for_organization(world.org).exists()
    assert defaults["consultative"].cadence_days["execute"] == 7
    assert defaults["transactional"].cadence_days["execute"] == 30
    assert defaults["consultative"].senior_leader_every_days == 30
    rows = playbooks_ensure(organization=world.org)
    assert [p.service_model for p in rows] == ["consultative", "transactional"]
    assert len(playbooks_ensure(organization=world.org)) == 2
    assert not Playbook.objects.for_organization(other_world.org).exists()


@pytest.fixture
def consultative(world):
    return playbooks_ensure(organization=world.org)[0]


def test_admin_edits_merge_per_phase_and_are_audited(world, consultative):
    before = AuditEvent.objects.for_organization(world.org).count()
    updated = playbook_update(
        actor=world.admin,
        playbook_id=consultative.pk,
        cadence_days={"execute": 5, "close_out": None},
        target_days={"plan": "40"},
        senior_leader_every_days=21,
        notes="Weekly for biotech.",
    )
    assert updated.cadence_days == {
        "assess": 14,
        "initiate": 7,
        "plan": 7,
        "execute": 5,
        "close_out": None,
    }
    assert updated.target_days["plan"] == 40
    assert (updated.senior_leader_every_days, updated.notes) == (21, "Weekly for biotech.")
    assert AuditEvent.objects.for_organization(world.org).count() == before + 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"cadence_days": {"launch": 3}}, "cadence_days"),
        ({"cadence_days": {"execute": 0}}, "cadence_days"),
        ({"cadence_days": {"execute": 4000}}, "cadence_days"),
        ({"cadence_days": {"execute": "weekly"}}, "cadence_days"),
        ({"cadence_days": {"execute": True}}, "cadence_days"),
        ({"cadence_days": [7]}, "cadence_days"),
        ({"target_days": {"plan": -1}}, "target_days"),
        ({"senior_leader_expected": "yes"}, "senior_leader_expected"),
        ({"senior_leader_every_days": None}, "senior_leader_every_days"),
        ({"service_model": "transactional"}, "service_model"),
        ({"notes": "x" * 5001}, "notes"),
    ],
)
def test_bad_input_changes_nothing(world, consultative, data, field):
    with pytest.raises(JourneyError) as exc:
        playbook_update(actor=world.admin, playbook_id=consultative.pk, **data)
    assert exc.value.field == field
    fresh = Playbook.objects.for_organization(world.org).get(pk=consultative.pk)
    assert (fresh.cadence_days, fresh.target_days, fresh.senior_leader_every_days) == (
        consultative.cadence_days,
        consultative.target_days,
        consultative.senior_leader_every_days,
    )


def test_only_admins_and_only_their_own(world, other_world, consultative):
    for actor in (world.am, world.pm, world.sponsor, world.viewer):
        with pytest.raises(PermissionDeniedError):
            playbook_update(actor=actor, playbook_id=consultative.pk, notes="x")
    with pytest.raises(Http404):
        playbook_update(actor=other_world.admin, playbook_id=consultative.pk, notes="x")
    assert Playbook.objects.for_organization(world.org).get(pk=consultative.pk).notes != "x"


def test_the_rules_follow_the_edited_playbook(world, consultative, clock):
    clock(at(0))
    playbook_update(actor=world.admin, playbook_id=consultative.pk, cadence_days={"assess": 3})
    TouchpointFactory(client=world.client, organization=world.org, at=at(0))
    clock(at(3, minutes=-1))
    alerts_run_rules(organization=world.org)
    assert not Alert.objects.for_organization(world.org).filter(kind="cadence").exists()
    clock(at(3))
    alerts_run_rules(organization=world.org)
    assert Alert.objects.for_organization(world.org).filter(kind="cadence").count() == 1
    # No rule for a phase: no alert.
    playbook_update(actor=world.admin, playbook_id=consultative.pk, cadence_days={"assess": None})
    clock(at(10))
    report = alerts_run_rules(organization=world.org)
    assert report["cadence"] == {"raised": 0, "cleared": 1}


def test_target_suggestions_are_the_stored_phase_durations(world, other_world, clock):
    """The suggestions read the stored `phase_duration_days` of the service model (one
    definition of a stay, computed by the engine). Consultative: opened 2025-08-14, won
    2025-10-03: assess 50 d x3, all left in October (exact). Initiate: 10 and 20 d left in
    October (median 15, n 2) and 40 d left in November (n 1): pooled as the dashboard does,
    (15*2 + 40)/3 = 23.33 (approximate). Plan: 6 d left 2025-10-19, 9 d left 2025-11-01 (the
    third project is cancelled in plan: not counted): (6 + 9)/2 = 7.5. Transactional: none."""
    clock(at(0))
    system = world.system
    for initiate_days, plan_days in [(10, 6), (20, 9), (40, None)]:
        project = ProjectFactory(client=world.client, opened_at=at(-200))
        project_transition(actor=system, project_id=project.pk, to="initiate", at=at(-150))
        project_transition(
            actor=system, project_id=project.pk, to="plan", at=at(-150 + initiate_days)
        )
        if plan_days:
            project_transition(
                actor=system,
                project_id=project.pk,
                to="execute",
                at=at(-150 + initiate_days + plan_days),
            )
        else:
            project_transition(actor=system, project_id=project.pk, to="cancelled", at=at(-1))
    big = ClientFactory(organization=world.org, segment="big_pharma")
    ProjectFactory(client=big, opened_at=at(-10))
    metrics_recompute(organization=world.org)
    metrics_recompute(organization=other_world.org)
    got = playbook_target_suggestions(organization=world.org, service_model="consultative")
    assert got["assess"] == {"p50": 50.0, "n": 3, "exact": True}
    assert got["initiate"]["n"] == 3 and not got["initiate"]["exact"]
    assert got["initiate"]["p50"] == pytest.approx((15 * 2 + 40) / 3)
    assert got["plan"] == {"p50": 7.5, "n": 2, "exact": False}
    assert got["execute"] == {"p50": None, "n": 0, "exact": True}
    none = playbook_target_suggestions(organization=world.org, service_model="transactional")
    assert none["assess"] == {"p50": None, "n": 0, "exact": True}
    theirs = playbook_target_suggestions(organization=other_world.org, service_model="consultative")
    assert theirs["initiate"]["n"] == 0
    with pytest.raises(JourneyError):
        playbook_target_suggestions(organization=world.org, service_model="premium")
