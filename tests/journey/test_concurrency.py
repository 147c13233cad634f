"""Concurrent moves of one project: exactly one wins, the others get a clear error."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from accounts.permissions import Actor
from journey.errors import JourneyError
from journey.models import PhaseTransition, Project
from journey.services import project_transition, transitions
from tests.factories import ClientFactory, MembershipFactory, OrganizationFactory, ProjectFactory


def _race(project_id: int, actor: Actor, targets: list[str], barrier_inside=None):
    results: list[object] = [None] * len(targets)

    def run(i: int, to: str):
        try:
            if barrier_inside is None:
                start.wait(timeout=10)
            results[i] = project_transition(actor=actor, project_id=project_id, to=to)
        except JourneyError as exc:
            results[i] = exc
        finally:
            connections.close_all()

    start = threading.Barrier(len(targets))
    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _setup():
    org = OrganizationFactory()
    actor = Actor.from_membership(MembershipFactory(organization=org, role="admin"))
    project = ProjectFactory(client=ClientFactory(organization=org))
    return org, actor, project


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_overlapping_moves_on_postgresql_have_exactly_one_winner(monkeypatch):
    org, actor, project = _setup()
    targets = ["initiate", "lost", "initiate", "cancelled", "on_hold", "initiate"]
    # Every thread reads the project and plans its move before any of them writes:
    # the conditional update is then the only thing standing between them.
    barrier = threading.Barrier(len(targets))
    real_plan = transitions.plan_move

    def plan_then_wait(*args, **kwargs):
        move = real_plan(*args, **kwargs)
        barrier.wait(timeout=10)
        return move

    monkeypatch.setattr(transitions, "plan_move", plan_then_wait)
    results = _race(project.pk, actor, targets, barrier_inside=barrier)
    winners = [r for r in results if isinstance(r, Project)]
    losers = [r for r in results if isinstance(r, JourneyError)]
    assert len(winners) == 1 and len(losers) == len(targets) - 1
    assert {e.code for e in losers} == {"conflict"}
    assert all("Someone else moved this project" in e.message for e in losers)
    fresh = Project.objects.for_organization(org).get(pk=project.pk)
    journal = PhaseTransition.objects.for_organization(org).filter(project=project)
    assert journal.count() == 2 and fresh.journal_seq == 2
    assert (fresh.phase, fresh.status) == (winners[0].phase, winners[0].status)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_moves_have_exactly_one_winner():
    """On either engine: start the same move in several threads at once."""
    org, actor, project = _setup()
    results = _race(project.pk, actor, ["initiate"] * 4)
    winners = [r for r in results if isinstance(r, Project)]
    losers = [r for r in results if isinstance(r, JourneyError)]
    assert len(winners) == 1 and len(losers) == 3
    for e in losers:
        assert e.message in (
            "The project is already in initiate.",
            "Someone else moved this project a moment ago; reload it and try again.",
        )
    assert PhaseTransition.objects.for_organization(org).filter(project=project).count() == 2
