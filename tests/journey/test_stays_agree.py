"""One definition of a phase stay (`journey.stays`): the project page, the playbook's p50
suggestion and the dashboard agree, with forward and backward admin corrections, a hold and
a cancellation. Runs on the suite's engine (SQLite locally, PostgreSQL in CI: both)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client as HttpClient

from engagement.services.playbooks import playbook_target_suggestions
from journey.selectors import project_timeline
from journey.services import project_transition
from journey.stays import phase_stays
from metrics.services import metrics_recompute
from tests.factories import ClientFactory, MembershipFactory, ProjectFactory

T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


# Worked by hand from the moves below: the stay each phase counts (its first forward leave,
# from the entry into the stay that leave ends), in days. None: no counted stay.
CONSULTATIVE = {"assess": 10.0, "initiate": 10.0, "plan": 20.0, "execute": None, "close_out": None}
TRANSACTIONAL = {"assess": 15.0, "initiate": None, "plan": 15.0, "execute": 20.0, "close_out": 8.0}


@pytest.fixture
def journeys(org, admin):
    bio = ClientFactory(organization=org, name="Small Bio", segment="biotech")
    pharma = ClientFactory(organization=org, name="Large Pharma", segment="big_pharma")
    moved = ProjectFactory(client=bio, code="BIO-1", opened_at=T0)
    for to, at, reason in [
        ("initiate", day(10), ""),  # won: assess 10 d
        ("plan", day(20), ""),  # initiate 10 d (counted)
        ("initiate", day(25), "Plan started before the PO; back to initiate"),  # backward
        ("plan", day(32), ""),  # initiate again, 7 d: not counted (initiate already left)
        ("on_hold", day(35), ""),
        ("active", day(45), ""),  # the hold counts in plan
        ("execute", day(52), ""),  # plan 20 d from its latest entry (day 32), hold included
        ("cancelled", day(60), ""),  # execute ends without being left
    ]:
        project_transition(actor=admin, project_id=moved.pk, to=to, at=at, reason=reason)
    skipped = ProjectFactory(client=pharma, code="PH-1", opened_at=T0)
    for to, at, reason in [
        ("plan", day(15), "Signed on the spot; initiate skipped"),  # forward correction
        ("execute", day(30), ""),
        ("close_out", day(50), ""),
        ("completed", day(58), ""),
    ]:
        project_transition(actor=admin, project_id=skipped.pk, to=to, at=at, reason=reason)
    metrics_recompute(organization=org)
    return {"consultative": (moved, CONSULTATIVE), "transactional": (skipped, TRANSACTIONAL)}


def page_counted_days(http: HttpClient, project) -> dict[str, float]:
    html = http.get(f"/projects/{project.pk}/").content.decode()
    return {
        phase: float(days)
        for phase, days in re.findall(r'data-stay="(\w+)" data-counted-days="([0-9.]+)"', html)
    }


@pytest.mark.django_db
def test_project_page_playbook_and_dashboard_agree_on_phase_stays(org, admin, journeys):
    http = HttpClient()
    membership = MembershipFactory(organization=org, role="viewer")
    http.force_login(membership.user)
    for service_model, (project, expected) in journeys.items():
        # The definition itself.
        stays = phase_stays(project_timeline(organization=org, project_id=project.pk))
        counted = {s.phase: s.duration_days for s in stays if s.counted}
        assert counted == {p: d for p, d in expected.items() if d is not None}, service_model
        # The project page shows the same counted stays.
        assert page_counted_days(http, project) == counted, service_model
        # The playbook's suggestion reads the stored figure of that service model.
        suggested = playbook_target_suggestions(organization=org, service_model=service_model)
        # The dashboard's comparison table (service model column) over 2025.
        response = http.get(
            "/dashboard/", {"from": "2025-01", "to": "2025-12", "slice": "overall:all"}
        )
        comparison = response.context["comparison"]
        column = next(
            i
            for i, (d, v, _) in enumerate(comparison.columns)
            if (d, v) == ("service_model", service_model)
        )
        for phase, days in expected.items():
            assert suggested[phase]["p50"] == (None if days is None else pytest.approx(days))
            assert suggested[phase]["n"] == (1 if days is not None else 0), (service_model, phase)
            row = next(r for r in comparison.rows if r["key"] == f"phase_duration_days.{phase}")
            cell = row["cells"][column]
            if days is None:
                assert cell.value is None, (service_model, phase)
            else:
                assert cell.value == pytest.approx(days), (service_model, phase)
                assert cell.n == 1


@pytest.mark.django_db
def test_a_backward_correction_and_a_cancellation_end_a_stay_without_leaving_it(
    org, admin, journeys
):
    project, _ = journeys["consultative"]
    stays = phase_stays(project_timeline(organization=org, project_id=project.pk))
    assert [(s.phase, s.duration_days, s.left_by, s.leaves, s.counted) for s in stays] == [
        ("assess", 10.0, "won", True, True),
        ("initiate", 10.0, "advanced", True, True),
        ("plan", 5.0, "corrected", False, False),
        ("initiate", 7.0, "advanced", True, False),
        ("plan", 20.0, "advanced", True, True),
        ("execute", 8.0, "cancelled", False, False),
    ]
