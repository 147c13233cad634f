"""Every SPEC metric against figures worked out by hand from a small fixture.

The fixture (all times UTC; "d" = days):

Clients: C1 big pharma (transactional, AM am1), C2 biotech (consultative, no AM).
Projects (journal written through the services):
  P1 C1 biologic  pm1  100  opened 2025-01-01, won 01-11 (10 d), plan 01-21 (initiate 10 d),
                            execute 02-10 (plan 20 d), close_out 03-12 (execute 30 d),
                            completed 03-22 (close-out 10 d)
  P2 C1 small_mol pm2       opened 2025-01-05, lost 01-25 (20 d)
  P3 C2 biologic  pm1   50  opened 2025-01-02, won 01-14 12:00 (12.5 d), on hold 01-20,
                            resumed 02-01, plan 02-04 12:00 (initiate 21 d, hold included)
  P4 C2 biologic  -    none opened 2024-12-20, won 2025-01-30 (41 d)
  P5 C1 biologic  pm1  200  opened 2025-06-01, won 06-11 (10 d): C1's repeat business
  P7 C2 peptide   pm2   30  opened 2023-01-01, won 01-10, plan 02-01, execute 03-01,
                            close_out 05-01, completed 2023-06-01 (no win within 365 d)
  P8 C1 biologic  pm1       opened 2025-02-01, cancelled 02-10 (no decision, leaves nothing)
Milestones completed in 2025-03: P1 due 03-10 done 03-10 23:00 (on time), P1 due 03-10
  done 03-11 00:30 (a day late), P3 due 03-20 done 03-05 (early); one open milestone.
Feedback answered in 2025-04: CSAT P1 5, P1 4, P3 2; NPS P1 10, P1 9, P3 8, P3 6, P4 7.
Touchpoints 2025-02: T1 C1/P1 senior, T2 C1 no project, T3 C2/P3, T4 C2 no project senior;
  2024-06: T5 C2 no project (no active client that month).
Another organization has a decision, milestone, feedback and touchpoint in the same months.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Role
from accounts.permissions import Actor
from journey.services import project_transition
from metrics.models import MetricResult
from metrics.services import metrics_recompute
from tests.factories import (
    ClientFactory,
    FeedbackFactory,
    MembershipFactory,
    MilestoneFactory,
    OrganizationFactory,
    ProjectFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


def at(text: str) -> dt.datetime:
    """'2025-01-14 12:00' or '2025-01-14' as an aware UTC datetime."""
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)


def walk(actor, project, *moves):
    for to, when in moves:
        project_transition(actor=actor, project_id=project.pk, to=to, at=at(when))


@pytest.fixture
def world():
    org = OrganizationFactory(slug="hand", name="Hand CDMO")
    pm1 = MembershipFactory(
        organization=org, role=Role.PROJECT_MANAGER, user__email="pm1@x.example"
    ).user
    pm2 = MembershipFactory(
        organization=org, role=Role.PROJECT_MANAGER, user__email="pm2@x.example"
    ).user
    am1 = MembershipFactory(
        organization=org, role=Role.ACCOUNT_MANAGER, user__email="am1@x.example"
    ).user
    system = Actor.system(org)
    c1 = ClientFactory(organization=org, name="C1", segment="big_pharma", account_manager=am1)
    c2 = ClientFactory(organization=org, name="C2", segment="biotech")

    def project(client, modality, pm, value, opened, code):
        return ProjectFactory(
            client=client,
            modality=modality,
            project_manager=pm,
            contract_value=Decimal(value) if value is not None else None,
            opened_at=at(opened),
            code=code,
        )

    p1 = project(c1, "biologic", pm1, 100, "2025-01-01", "P1")
    walk(
        system,
        p1,
        ("initiate", "2025-01-11"),
        ("plan", "2025-01-21"),
        ("execute", "2025-02-10"),
        ("close_out", "2025-03-12"),
        ("completed", "2025-03-22"),
    )
    p2 = project(c1, "small_molecule", pm2, None, "2025-01-05", "P2")
    walk(system, p2, ("lost", "2025-01-25"))
    p3 = project(c2, "biologic", pm1, 50, "2025-01-02", "P3")
    walk(
        system,
        p3,
        ("initiate", "2025-01-14 12:00"),
        ("on_hold", "2025-01-20"),
        ("active", "2025-02-01"),
        ("plan", "2025-02-04 12:00"),
    )
    p4 = project(c2, "biologic", None, None, "2024-12-20", "P4")
    walk(system, p4, ("initiate", "2025-01-30"))
    p5 = project(c1, "biologic", pm1, 200, "2025-06-01", "P5")
    walk(system, p5, ("initiate", "2025-06-11"))
    p7 = project(c2, "peptide", pm2, 30, "2023-01-01", "P7")
    walk(
        system,
        p7,
        ("initiate", "2023-01-10"),
        ("plan", "2023-02-01"),
        ("execute", "2023-03-01"),
        ("close_out", "2023-05-01"),
        ("completed", "2023-06-01"),
    )
    p8 = project(c1, "biologic", pm1, None, "2025-02-01", "P8")
    walk(system, p8, ("cancelled", "2025-02-10"))

    def milestone(p, due, done):
        MilestoneFactory(
            project=p,
            organization=org,
            phase="execute",
            due_date=dt.date.fromisoformat(due),
            completed_at=at(done) if done else None,
        )

    milestone(p1, "2025-03-10", "2025-03-10 23:00")
    milestone(p1, "2025-03-10", "2025-03-11 00:30")
    milestone(p3, "2025-03-20", "2025-03-05")
    milestone(p3, "2025-03-01", None)

    def feedback(p, kind, score):
        FeedbackFactory(
            project=p,
            organization=org,
            kind=kind,
            score=score,
            phase="assess",
            responded_at=at("2025-04-15"),
        )

    for p, score in ((p1, 5), (p1, 4), (p3, 2)):
        feedback(p, "csat", score)
    for p, score in ((p1, 10), (p1, 9), (p3, 8), (p3, 6), (p4, 7)):
        feedback(p, "nps", score)

    TouchpointFactory(
        client=c1, project=p1, organization=org, at=at("2025-02-03"), senior_leader_present=True
    )
    TouchpointFactory(client=c1, organization=org, at=at("2025-02-05"))
    TouchpointFactory(client=c2, project=p3, organization=org, at=at("2025-02-10"))
    TouchpointFactory(client=c2, organization=org, at=at("2025-02-15"), senior_leader_present=True)
    TouchpointFactory(client=c2, organization=org, at=at("2024-06-01"))

    # Another organization, with events in the same months, that must not count.
    other = OrganizationFactory(slug="other", name="Other CDMO")
    osys = Actor.system(other)
    oc = ClientFactory(organization=other, name="C1", segment="big_pharma")
    op = ProjectFactory(client=oc, modality="biologic", opened_at=at("2025-01-01"), code="P1")
    walk(osys, op, ("lost", "2025-01-02"))
    MilestoneFactory(
        project=op, organization=other, due_date=dt.date(2025, 1, 1), completed_at=at("2025-03-15")
    )
    FeedbackFactory(
        project=op, organization=other, kind="csat", score=1, responded_at=at("2025-04-10")
    )
    TouchpointFactory(client=oc, organization=other, at=at("2025-02-20"))

    metrics_recompute(organization=other)
    metrics_recompute(organization=org)
    return org, other


def row(org, key, period, dimension="overall", value="all") -> MetricResult | None:
    return (
        MetricResult.objects.for_organization(org)
        .filter(key=key, dimension=dimension, dimension_value=value, period=period)
        .first()
    )


def check(org, key, period, expected, *, n, num=None, den=None, dimension="overall", value="all"):
    r = row(org, key, period, dimension, value)
    assert r is not None, f"no row for {key} {dimension}={value} {period}"
    assert r.value == pytest.approx(expected, rel=1e-12, abs=1e-12), (key, dimension, value)
    assert r.n == n
    assert r.numerator == num
    assert r.denominator == den


def test_time_to_decision_medians_even_and_odd(world):
    org, _ = world
    # 10, 12.5, 20, 41: the mean of the middle two.
    check(org, "time_to_decision_days", "2025-01", 16.25, n=4)
    check(
        org, "time_to_decision_days", "2025-01", 15.0, n=2, dimension="segment", value="big_pharma"
    )
    check(org, "time_to_decision_days", "2025-01", 26.75, n=2, dimension="segment", value="biotech")
    # 10, 12.5, 41: the middle one.
    check(
        org, "time_to_decision_days", "2025-01", 12.5, n=3, dimension="modality", value="biologic"
    )
    check(
        org, "time_to_decision_days", "2025-01", 11.25, n=2,
        dimension="project_manager", value="pm1@x.example",
    )  # fmt: skip
    check(
        org, "time_to_decision_days", "2025-01", 15.0, n=2,
        dimension="account_manager", value="am1@x.example",
    )  # fmt: skip
    check(
        org, "time_to_decision_days", "2025-01", 15.0, n=2,
        dimension="service_model", value="transactional",
    )  # fmt: skip
    check(org, "time_to_decision_days", "2025-06", 10.0, n=1)
    check(org, "time_to_decision_days", "2023-01", 9.0, n=1)


def test_win_rate_with_won_and_lost_in_one_month(world):
    org, _ = world
    check(org, "win_rate", "2025-01", 0.75, n=4, num=3, den=4)
    check(
        org, "win_rate", "2025-01", 0.5, n=2, num=1, den=2, dimension="segment", value="big_pharma"
    )
    check(org, "win_rate", "2025-01", 1.0, n=2, num=2, den=2, dimension="segment", value="biotech")
    check(
        org, "win_rate", "2025-01", 0.0, n=1, num=0, den=1,
        dimension="modality", value="small_molecule",
    )  # fmt: skip
    check(
        org, "win_rate", "2025-01", 0.0, n=1, num=0, den=1,
        dimension="project_manager", value="pm2@x.example",
    )  # fmt: skip


def test_phase_durations_and_kickoff(world):
    org, _ = world
    check(org, "phase_duration_days.assess", "2025-01", 16.25, n=4)
    check(org, "phase_duration_days.initiate", "2025-01", 10.0, n=1)
    # P3: 2025-01-14 12:00 -> 2025-02-04 12:00, the 12 days on hold included.
    check(org, "phase_duration_days.initiate", "2025-02", 21.0, n=1)
    check(org, "phase_duration_days.plan", "2025-02", 20.0, n=1)
    check(org, "phase_duration_days.execute", "2025-03", 30.0, n=1)
    check(org, "phase_duration_days.close_out", "2025-03", 10.0, n=1)
    check(org, "time_to_kickoff_days", "2025-01", 10.0, n=1)
    check(org, "time_to_kickoff_days", "2025-02", 21.0, n=1)
    check(org, "phase_duration_days.close_out", "2023-06", 31.0, n=1)
    # The cancelled project (P8) left no phase: February has no assess figure at all.
    assert row(org, "phase_duration_days.assess", "2025-02") is None
    assert row(org, "time_to_decision_days", "2025-02") is None


def test_on_time_milestones_on_the_due_date_and_a_day_late(world):
    org, _ = world
    check(org, "on_time_milestone_rate", "2025-03", 2 / 3, n=3, num=2, den=3)
    check(
        org, "on_time_milestone_rate", "2025-03", 0.5, n=2, num=1, den=2,
        dimension="segment", value="big_pharma",
    )  # fmt: skip
    check(
        org, "on_time_milestone_rate", "2025-03", 1.0, n=1, num=1, den=1,
        dimension="segment", value="biotech",
    )  # fmt: skip


def test_csat_mean_and_nps(world):
    org, _ = world
    check(org, "csat_avg", "2025-04", 11 / 3, n=3, num=11, den=3)
    check(org, "csat_avg", "2025-04", 2.0, n=1, num=2, den=1, dimension="segment", value="biotech")
    # 10, 9 promoters; 8, 7 passives; 6 a detractor: 100 * (2 - 1) / 5.
    check(org, "nps", "2025-04", 20.0, n=5, num=1, den=5)
    check(org, "nps", "2025-04", 100.0, n=2, num=2, den=2, dimension="segment", value="big_pharma")
    check(org, "nps", "2025-04", -100 / 3, n=3, num=-1, den=3, dimension="segment", value="biotech")


def test_touchpoints_per_active_client_and_senior_rate(world):
    org, _ = world
    check(org, "touchpoints_per_active_client", "2025-02", 2.0, n=4, num=4, den=2)
    check(org, "senior_touch_rate", "2025-02", 0.5, n=4, num=2, den=4)
    check(
        org, "touchpoints_per_active_client", "2025-02", 2.0, n=2, num=2, den=1,
        dimension="segment", value="big_pharma",
    )  # fmt: skip
    # Touchpoints without a project count under client dimensions only: biologic has T1, T3
    # over the two clients active through a biologic project.
    check(
        org, "touchpoints_per_active_client", "2025-02", 1.0, n=2, num=2, den=2,
        dimension="modality", value="biologic",
    )  # fmt: skip
    check(
        org, "senior_touch_rate", "2025-02", 0.5, n=2, num=1, den=2,
        dimension="modality", value="biologic",
    )  # fmt: skip
    check(
        org, "touchpoints_per_active_client", "2025-02", 2.0, n=2, num=2, den=1,
        dimension="account_manager", value="am1@x.example",
    )  # fmt: skip
    # June 2024: one touchpoint, no active client: a senior rate but no per-client figure.
    check(org, "senior_touch_rate", "2024-06", 0.0, n=1, num=0, den=1)
    assert row(org, "touchpoints_per_active_client", "2024-06") is None


def test_repeat_business_inside_and_outside_365_days(world):
    org, _ = world
    # P1 completed 2025-03-22; C1 won P5 on 2025-06-11, within 365 days.
    check(org, "repeat_business_rate", "2025-03", 1.0, n=1, num=1, den=1)
    # P7 completed 2023-06-01; C2's next win is 2025-01-14, outside the window.
    check(org, "repeat_business_rate", "2023-06", 0.0, n=1, num=0, den=1)
    assert not row(org, "repeat_business_rate", "2025-03").provisional


def test_repeat_business_is_provisional_while_the_window_is_open(world):
    org, _ = world
    metrics_recompute(organization=org, now=at("2025-12-01"))
    assert row(org, "repeat_business_rate", "2025-03").provisional
    assert not row(org, "repeat_business_rate", "2023-06").provisional


def test_client_lifetime_value_accumulates_month_by_month(world):
    org, _ = world
    check(org, "client_lifetime_value", "2023-01", 30.0, n=1, num=30, den=1)
    check(org, "client_lifetime_value", "2024-12", 30.0, n=1, num=30, den=1)
    # C1: P1 100; C2: P7 30 + P3 50 + P4 (no value) 0.
    check(org, "client_lifetime_value", "2025-01", 90.0, n=2, num=180, den=2)
    check(org, "client_lifetime_value", "2025-06", 190.0, n=2, num=380, den=2)
    check(
        org, "client_lifetime_value", "2025-01", 75.0, n=2, num=150, den=2,
        dimension="project_manager", value="pm1@x.example",
    )  # fmt: skip
    assert row(org, "client_lifetime_value", "2024-12", "project_manager", "pm1@x.example") is None
    check(
        org, "client_lifetime_value", "2025-01", 80.0, n=1, num=80, den=1,
        dimension="segment", value="biotech",
    )  # fmt: skip


def test_another_organization_counts_only_for_itself(world):
    org, other = world
    # The other org's lost decision, late milestone, CSAT 1 and touchpoint stay out of ours.
    check(other, "win_rate", "2025-01", 0.0, n=1, num=0, den=1)
    check(other, "csat_avg", "2025-04", 1.0, n=1, num=1, den=1)
    check(other, "on_time_milestone_rate", "2025-03", 0.0, n=1, num=0, den=1)
    # Recomputing one organization leaves the other's rows alone.
    before = MetricResult.objects.for_organization(other).count()
    metrics_recompute(organization=org)
    assert MetricResult.objects.for_organization(other).count() == before > 0


def test_no_row_when_n_is_zero(world):
    org, _ = world
    rows = MetricResult.objects.for_organization(org)
    assert not rows.filter(n=0).exists()
    # P4 has no project manager, and C2 no account manager: no empty-valued rows.
    assert not rows.filter(dimension_value="").exists()
    assert (
        not rows.filter(dimension="account_manager")
        .exclude(dimension_value="am1@x.example")
        .exists()
    )
    # Nothing happened in 2024-03 at all.
    assert not rows.filter(period="2024-03").exclude(key="client_lifetime_value").exists()


def test_recompute_twice_gives_the_same_rows(world):
    org, _ = world

    def snapshot():
        return sorted(
            MetricResult.objects.for_organization(org).values_list(
                "key", "dimension", "dimension_value", "period", "value", "numerator",
                "denominator", "n", "provisional",
            )
        )  # fmt: skip

    first = snapshot()
    metrics_recompute(organization=org)
    assert snapshot() == first


def test_dimensions_are_taken_as_they_are_at_computation_time(world):
    org, _ = world
    from journey.models import Client

    Client.objects.for_organization(org).filter(name="C2").update(segment="academic")
    metrics_recompute(organization=org)
    assert row(org, "win_rate", "2025-01", "segment", "biotech") is None
    check(org, "win_rate", "2025-01", 1.0, n=2, num=2, den=2, dimension="segment", value="academic")


def test_admin_corrections_count_each_phase_once(db):
    """An admin's skip out of assess is a (won) decision; a project sent back and moved on
    again counts its first forward exit from a phase, from the entry into that stay."""
    org = OrganizationFactory(slug="corr")
    admin = Actor.from_membership(MembershipFactory(organization=org, role=Role.ADMIN))
    client = ClientFactory(organization=org)
    skip = ProjectFactory(client=client, opened_at=at("2025-01-01"), code="SKIP")
    project_transition(
        actor=admin, project_id=skip.pk, to="plan", at=at("2025-01-05"), reason="Signed early"
    )
    back = ProjectFactory(client=client, opened_at=at("2025-01-01"), code="BACK")
    walk(admin, back, ("initiate", "2025-01-03"), ("plan", "2025-01-13"))
    project_transition(
        actor=admin, project_id=back.pk, to="initiate", at=at("2025-01-20"), reason="Scope reset"
    )
    walk(admin, back, ("plan", "2025-02-01"))
    metrics_recompute(organization=org)
    # Decisions: SKIP 4 d (won by correction), BACK 2 d (won).
    check(org, "win_rate", "2025-01", 1.0, n=2, num=2, den=2)
    check(org, "time_to_decision_days", "2025-01", 3.0, n=2)
    # BACK left initiate first on 01-13 (10 d after entering it); the second stay is not counted.
    check(org, "phase_duration_days.initiate", "2025-01", 10.0, n=1)
    assert row(org, "phase_duration_days.initiate", "2025-02") is None
    check(org, "time_to_kickoff_days", "2025-01", 10.0, n=1)
    # The correction back out of plan is not a forward move: plan has not been left.
    assert (
        not MetricResult.objects.for_organization(org)
        .filter(key="phase_duration_days.plan")
        .exists()
    )


def test_repeat_window_edges_and_fractions_of_a_second(db):
    """A win at the very instant of the completion is not 'after' it; one exactly 365 days
    later is inside; durations keep their microseconds (SQLite's strftime would round
    12:00:59.9996 up a second)."""
    org = OrganizationFactory(slug="edges")
    system = Actor.system(org)
    c1 = ClientFactory(organization=org, name="Same instant")
    c2 = ClientFactory(organization=org, name="Day 365")

    def done(client, code, completed):
        p = ProjectFactory(client=client, opened_at=at("2024-01-01"), code=code)
        walk(
            system, p, ("initiate", "2024-01-02"), ("plan", "2024-01-03"),
            ("execute", "2024-01-04"), ("close_out", "2024-01-05"),
        )  # fmt: skip
        project_transition(actor=system, project_id=p.pk, to="completed", at=completed)

    def won(client, code, when):
        p = ProjectFactory(client=client, opened_at=at("2024-01-01"), code=code)
        project_transition(actor=system, project_id=p.pk, to="initiate", at=when)

    done(c1, "A1", at("2024-03-01 12:00"))
    won(c1, "A2", at("2024-03-01 12:00"))
    done(c2, "B1", at("2024-03-01 12:00"))
    won(c2, "B2", at("2024-03-01 12:00") + dt.timedelta(days=365))
    frac = ProjectFactory(client=c1, opened_at=at("2024-06-01"), code="F")
    project_transition(
        actor=system,
        project_id=frac.pk,
        to="lost",
        at=at("2024-06-03 12:00") + dt.timedelta(seconds=59, microseconds=999600),
    )
    metrics_recompute(organization=org)
    check(org, "repeat_business_rate", "2024-03", 0.5, n=2, num=1, den=2)
    expected = 2 + (59.9996 / 86400) + 0.5
    check(org, "time_to_decision_days", "2024-06", expected, n=1)
