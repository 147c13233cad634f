"""The demo organization: realistic spread, and the same seed gives the same data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from accounts.models import AuditEvent, Membership
from engagement.demo import demo_seed
from journey.models import (
    Client,
    Contact,
    Feedback,
    Milestone,
    PhaseTransition,
    Project,
    Touchpoint,
)

TODAY = dt.date(2026, 6, 30)


def _local(user) -> str | None:
    return user.email.split("@")[0] if user else None


def canonical(org) -> dict[str, list]:
    """Everything in the organization by natural keys (no ids, no slug)."""
    scoped = lambda m: m.objects.for_organization(org)  # noqa: E731
    return {
        "members": sorted(
            (_local(m.user), m.user.full_name, m.role)
            for m in Membership.objects.filter(organization=org).select_related("user")
        ),
        "clients": sorted(
            (
                c.name,
                c.segment,
                c.size_band,
                tuple(c.modalities),
                c.service_model,
                _local(c.account_manager),
                c.region,
                c.status,
                c.notes,
            )
            for c in scoped(Client).select_related("account_manager")
        ),
        "contacts": sorted(
            (c.client.name, c.name, c.email, c.title, c.is_primary)
            for c in scoped(Contact).select_related("client")
        ),
        "projects": sorted(
            (
                p.code,
                p.client.name,
                p.name,
                p.modality,
                p.service_type,
                _local(p.project_manager),
                _local(p.executive_sponsor),
                str(p.contract_value),
                p.currency,
                p.opened_at,
                p.phase,
                p.status,
                p.journal_seq,
            )
            for p in scoped(Project).select_related(
                "client", "project_manager", "executive_sponsor"
            )
        ),
        "transitions": sorted(
            (
                t.project.code,
                t.seq,
                t.kind,
                t.from_phase,
                t.to_phase,
                t.to_status,
                t.at,
                _local(t.by),
                t.note,
            )
            for t in scoped(PhaseTransition).select_related("project", "by")
        ),
        "milestones": sorted(
            (m.project.code, m.phase, m.title, m.due_date, m.completed_at)
            for m in scoped(Milestone).select_related("project")
        ),
        "touchpoints": sorted(
            (t.client.name, t.kind, t.at, _local(t.by), t.senior_leader_present, t.summary)
            for t in scoped(Touchpoint).select_related("client", "by")
        ),
        "feedback": sorted(
            (f.project.code, f.kind, f.phase, f.score, f.responded_at, f.contact.email, f.comment)
            for f in scoped(Feedback).select_related("project", "contact")
        ),
        "audit": sorted(
            (e.action, e.object_type) for e in AuditEvent.objects.for_organization(org)
        ),
    }


@pytest.mark.django_db
@pytest.mark.slow
def test_same_seed_same_organization_and_realistic_spread():
    first = demo_seed(slug="demo-a", seed=11, today=TODAY)
    second = demo_seed(slug="demo-b", seed=11, today=TODAY)
    a, b = canonical(first.organization), canonical(second.organization)
    assert a == b
    other = demo_seed(slug="demo-c", seed=12, today=TODAY)
    assert canonical(other.organization)["projects"] != a["projects"]

    # One user per role at least, about 40 clients over every segment, ~150 projects.
    assert {m[2] for m in a["members"]} == {
        "admin",
        "executive",
        "account_manager",
        "project_manager",
        "viewer",
    }
    assert len(a["clients"]) == 40
    assert {c[1] for c in a["clients"]} == {
        "big_pharma",
        "mid_pharma",
        "biotech",
        "virtual_biotech",
        "academic",
    }
    assert 120 <= len(a["projects"]) <= 190
    phases = {p[10] for p in a["projects"]}
    statuses = {p[11] for p in a["projects"]}
    assert phases == {"assess", "initiate", "plan", "execute", "close_out"}
    assert statuses == {"active", "on_hold", "completed", "lost", "cancelled"}
    opened = [p[9] for p in a["projects"]]
    assert (max(opened) - min(opened)).days > 600  # two years of history
    everything = (
        [t[6] for t in a["transitions"]]
        + [t[2] for t in a["touchpoints"]]
        + [f[4] for f in a["feedback"] if f[4] is not None]  # None: a survey still unanswered
    )
    assert max(everything) < dt.datetime.combine(TODAY, dt.time(0), tzinfo=dt.UTC)
    assert {f[1] for f in a["feedback"]} == {"csat", "nps"}
    assert len(a["milestones"]) > 100 and len(a["touchpoints"]) > 500
    # Every row went through a service: one create event per row at least.
    creates = sum(1 for e in a["audit"] if e[0] == "create")
    assert creates >= len(a["clients"]) + len(a["projects"]) + len(a["touchpoints"])


@pytest.mark.django_db
def test_seed_demo_command_is_idempotent_and_checks_its_input(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="cannot be in the future"):
        call_command("seed_demo", "--today", "2999-01-01")
    with pytest.raises(CommandError, match="is not a date"):
        call_command("seed_demo", "--today", "yesterday")
    assert not Client.objects.unscoped_dangerously().exists()
