"""Alerts: the closed loop (low scores, however they arrive) and the daily rules, each with
a frozen clock: it fires at the right moment, not before, and once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from accounts.errors import PermissionDeniedError
from engagement.models import Alert
from engagement.selectors import alert_counts, alert_counts_by_user, alert_list
from engagement.services.alerts import alert_resolve, alert_snooze, alerts_run_rules
from engagement.services.surveys import survey_answer
from engagement.tasks import engagement_daily_task
from journey.errors import JourneyError
from journey.models import Milestone
from journey.services import feedback_create, feedback_update, milestone_complete
from tests.engagement.conftest import at, move, send_request
from tests.factories import MilestoneFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def alerts(world, kind=None, **filters):
    qs = Alert.objects.for_organization(world.org).filter(**filters)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("id"))


def run(world):
    return alerts_run_rules(organization=world.org)


# --- closed loop ----------------------------------------------------------------------------
def test_low_csat_through_the_link_alerts_am_and_sponsor_with_the_comment(world, clock):
    clock(at(0))
    feedback, token = send_request(world)
    survey_answer(token=token, score="2", comment="Timelines slipped twice.")
    got = alerts(world, "low_score")
    assert [a.assignee for a in got] == [world.am.user, world.sponsor.user]
    for alert in got:
        assert alert.message == "Timelines slipped twice."
        assert alert.title == "CSAT 2/5 from Dana Sponsor on NOV-1"
        assert (alert.client, alert.project, alert.feedback_id) == (
            world.client,
            world.project,
            feedback.pk,
        )
        assert alert.raised_at == at(0) and alert.resolved_at is None
    assert alert_counts(organization=world.org, user=world.am.user)["open"] == 1
    assert alert_counts(organization=world.org, user=world.sponsor.user)["open"] == 1


@pytest.mark.parametrize(
    ("kind", "score", "alerted"),
    [
        ("csat", 1, True),
        ("csat", 2, True),
        ("csat", 3, False),
        ("csat", 5, False),
        ("nps", 0, True),
        ("nps", 6, True),
        ("nps", 7, False),
        ("nps", 10, False),
    ],
)
def test_thresholds_for_a_recorded_score(world, clock, kind, score, alerted):
    clock(at(0))
    feedback_create(
        actor=world.am,
        project=world.project.pk,
        kind=kind,
        score=score,
        phase="assess",
        responded_at=at(-1),
        comment="",
    )
    got = alerts(world, "low_score")
    assert len(got) == (2 if alerted else 0)
    if alerted:
        assert got[0].message == "(no comment)"


def test_low_score_over_the_api(world, clock, key_client):
    clock(at(0))
    response = key_client(world.org).post(
        "/api/v1/feedback/",
        {
            "project": world.project.pk,
            "kind": "nps",
            "score": 4,
            "phase": "assess",
            "responded_at": at(-1).isoformat(),
            "comment": "Not a partner.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert [a.message for a in alerts(world, "low_score")] == ["Not a partner."] * 2


def test_an_update_to_a_low_score_alerts_once(world, clock):
    clock(at(0))
    fb = feedback_create(
        actor=world.am,
        project=world.project.pk,
        kind="csat",
        score=4,
        phase="assess",
        responded_at=at(-1),
    )
    assert alerts(world) == []
    feedback_update(actor=world.am, feedback_id=fb.pk, score=1)
    feedback_update(actor=world.am, feedback_id=fb.pk, comment="Bad week")
    assert len(alerts(world, "low_score")) == 2


def test_sponsor_who_is_the_am_gets_one_alert_and_no_am_leaves_it_unassigned(world, clock):
    clock(at(0))
    world.project.executive_sponsor = world.am.user
    world.project.save(update_fields=["executive_sponsor"])
    feedback_create(
        actor=world.am,
        project=world.project.pk,
        kind="csat",
        score=1,
        phase="assess",
        responded_at=at(-1),
    )
    assert [a.assignee for a in alerts(world)] == [world.am.user]
    world.client.account_manager = None
    world.client.save(update_fields=["account_manager"])
    world.project.executive_sponsor = None
    world.project.save(update_fields=["executive_sponsor"])
    feedback_create(
        actor=world.admin,
        project=world.project.pk,
        kind="csat",
        score=2,
        phase="assess",
        responded_at=at(-1),
    )
    assert alerts(world)[-1].assignee is None
    assert alert_counts_by_user(organization=world.org) == {world.am.user.pk: 1, None: 1}


# --- resolve, snooze --------------------------------------------------------------------------
@pytest.fixture
def low_alert(world, clock):
    clock(at(0))
    feedback_create(
        actor=world.am,
        project=world.project.pk,
        kind="csat",
        score=1,
        phase="assess",
        responded_at=at(-1),
        comment="Unhappy",
    )
    return alerts(world, assignee=world.am.user)[0]


def test_resolve_with_a_note(world, low_alert, clock):
    clock(at(1))
    resolved = alert_resolve(actor=world.am, alert_id=low_alert.pk, note="Called Dana; fixed.")
    assert resolved.resolved_at == at(1) and resolved.resolved_by == world.am.user
    assert resolved.resolution_note == "Called Dana; fixed."
    assert list(alert_list(organization=world.org, assignee=world.am.user)) == []
    assert alert_counts(organization=world.org, user=world.am.user)["open"] == 0
    with pytest.raises(JourneyError) as exc:
        alert_resolve(actor=world.am, alert_id=low_alert.pk, note="again")
    assert exc.value.code == "resolved"


@pytest.mark.parametrize("note", ["", "   ", None])
def test_resolve_needs_a_note(world, low_alert, note):
    with pytest.raises(JourneyError) as exc:
        alert_resolve(actor=world.am, alert_id=low_alert.pk, note=note)
    assert exc.value.field == "note"
    low_alert.refresh_from_db()
    assert low_alert.resolved_at is None


def test_viewer_and_other_organization_cannot_touch_it(world, other_world, low_alert):
    with pytest.raises(PermissionDeniedError):
        alert_resolve(actor=world.viewer, alert_id=low_alert.pk, note="x")
    with pytest.raises(Http404):
        alert_resolve(actor=other_world.admin, alert_id=low_alert.pk, note="x")
    with pytest.raises(Http404):
        alert_snooze(actor=other_world.admin, alert_id=low_alert.pk, until="2026-03-10")
    low_alert.refresh_from_db()
    assert low_alert.resolved_at is None and low_alert.snoozed_until is None
    assert alert_counts(organization=other_world.org, user=world.am.user)["open"] == 0


def test_snooze_until_a_date(world, low_alert, clock):
    snoozed = alert_snooze(actor=world.am, alert_id=low_alert.pk, until="2026-03-05")
    assert snoozed.snoozed_until == dt.date(2026, 3, 5)
    assert alert_counts(organization=world.org, user=world.am.user) == {
        "open": 0,
        "snoozed": 1,
        "by_kind": {},
    }
    assert list(alert_list(organization=world.org, state="snoozed")) == [low_alert]
    clock(at(3))  # 2026-03-05: it wakes up
    assert alert_counts(organization=world.org, user=world.am.user)["open"] == 1
    assert list(alert_list(organization=world.org, assignee=world.am.user)) == [low_alert]


@pytest.mark.parametrize("until", ["2026-03-02", "2026-03-01", "2027-06-01", "soon", 5])
def test_snooze_refuses_bad_dates(world, low_alert, until):
    with pytest.raises(JourneyError) as exc:
        alert_snooze(actor=world.am, alert_id=low_alert.pk, until=until)
    assert exc.value.field == "until"


def test_a_resolved_alert_cannot_be_snoozed(world, low_alert):
    alert_resolve(actor=world.am, alert_id=low_alert.pk, note="done")
    with pytest.raises(JourneyError):
        alert_snooze(actor=world.am, alert_id=low_alert.pk, until="2026-03-10")


def test_one_open_alert_per_cause_is_a_database_rule(world, low_alert):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            organization=world.org,
            kind="low_score",
            cause_key=low_alert.cause_key,
            title="dup",
            raised_at=at(0),
        )
    alert_resolve(actor=world.am, alert_id=low_alert.pk, note="done")
    Alert.objects.create(  # a resolved one does not block
        organization=world.org,
        kind="low_score",
        cause_key=low_alert.cause_key,
        title="again",
        raised_at=at(0),
    )


# --- daily rules ------------------------------------------------------------------------------
def test_cadence_fires_when_the_playbook_gap_is_reached_once_per_silence(world, clock):
    # Consultative, in assess: a touchpoint at least every 14 days.
    clock(at(0))
    TouchpointFactory(client=world.client, organization=world.org, at=at(0))
    clock(at(14, minutes=-1))
    run(world)
    assert alerts(world, "cadence") == []
    clock(at(14))
    assert run(world)["cadence"]["raised"] == 1
    [alert] = alerts(world, "cadence")
    assert alert.assignee == world.am.user and alert.client == world.client
    assert "no touchpoint for 14 days (playbook: every 14)" in alert.title
    clock(at(15))
    run(world)
    alert_resolve(actor=world.am, alert_id=alert.pk, note="Left a voicemail")
    clock(at(16))
    run(world)
    assert len(alerts(world, "cadence")) == 1  # resolved, same silence: not raised again
    # A touchpoint starts a new episode; its own silence alerts again 14 days later.
    TouchpointFactory(client=world.client, organization=world.org, at=at(16))
    clock(at(30, minutes=-1))
    run(world)
    assert len(alerts(world, "cadence")) == 1
    clock(at(30))
    run(world)
    assert len(alerts(world, "cadence")) == 2


def test_cadence_follows_the_strictest_open_phase_and_clears_itself(world, clock):
    clock(at(0))
    TouchpointFactory(client=world.client, organization=world.org, at=at(0))
    move(world, "initiate")  # consultative initiate: every 7 days
    clock(at(7))
    run(world)
    [alert] = alerts(world, "cadence")
    TouchpointFactory(client=world.client, organization=world.org, at=at(7, hours=1))
    clock(at(7, hours=2))
    report = run(world)
    assert report["cadence"] == {"raised": 0, "cleared": 1}
    alert.refresh_from_db()
    assert alert.resolved_at == at(7, hours=2) and alert.resolved_by is None
    assert alert.resolution_note.startswith("Resolved automatically")


def test_no_cadence_without_open_work_and_transactional_is_monthly(world, clock):
    clock(at(0))
    world.client.service_model = "transactional"
    world.client.save(update_fields=["service_model"])
    TouchpointFactory(client=world.client, organization=world.org, at=at(0))
    clock(at(29))
    run(world)
    assert alerts(world, "cadence") == []
    clock(at(30))
    run(world)
    assert len(alerts(world, "cadence")) == 1
    move(world, "lost")
    clock(at(31))
    run(world)
    assert alerts(world, "cadence", resolved_at__isnull=True) == []


def test_stuck_fires_at_the_phase_target(world, clock):
    clock(at(0))
    move(world, "initiate")  # consultative initiate target: 21 days
    clock(at(21, minutes=-1))
    run(world)
    assert alerts(world, "stuck") == []
    clock(at(21))
    run(world)
    run(world)
    [alert] = alerts(world, "stuck")
    assert alert.assignee == world.pm.user and alert.project == world.project
    assert alert.title == "NOV-1 stuck in initiate: 21 days (target 21)"
    move(world, "plan")
    clock(at(22))
    assert run(world)["stuck"] == {"raised": 0, "cleared": 1}


def test_on_hold_projects_are_not_stuck(world, clock):
    clock(at(0))
    move(world, "initiate")
    move(world, "on_hold")
    clock(at(40))
    run(world)
    assert alerts(world, "stuck") == []


def test_overdue_milestone_fires_the_day_after_its_due_date(world, clock):
    clock(at(0))
    milestone = MilestoneFactory(
        project=world.project, organization=world.org, phase="assess", due_date=dt.date(2026, 3, 5)
    )
    clock(dt.datetime(2026, 3, 5, 23, 59, tzinfo=dt.UTC))
    run(world)
    assert alerts(world, "milestone_overdue") == []
    clock(dt.datetime(2026, 3, 6, 0, 0, tzinfo=dt.UTC))
    run(world)
    run(world)
    [alert] = alerts(world, "milestone_overdue")
    assert alert.milestone == milestone and alert.assignee == world.pm.user
    milestone_complete(actor=world.pm, milestone_id=milestone.pk)
    clock(dt.datetime(2026, 3, 7, tzinfo=dt.UTC))
    assert run(world)["milestone_overdue"]["cleared"] == 1
    assert Milestone.objects.for_organization(world.org).get().completed_at is not None


def test_unanswered_survey_fires_fourteen_days_after_sending(world, clock):
    clock(at(0))
    feedback, token = send_request(world)
    clock(at(14, minutes=-1))
    run(world)
    assert alerts(world, "survey_unanswered") == []
    clock(at(14))
    run(world)
    run(world)
    [alert] = alerts(world, "survey_unanswered")
    assert alert.assignee == world.am.user and alert.feedback == feedback
    survey_answer(token=token, score=5)
    clock(at(15))
    assert run(world)["survey_unanswered"]["cleared"] == 1


def test_rules_stay_inside_the_organization(world, other_world, clock):
    clock(at(0))
    move(world, "initiate")
    clock(at(60))
    run(world)
    assert alerts(world, "stuck")
    assert not Alert.objects.for_organization(other_world.org).filter(kind="stuck").exists()
    alerts_run_rules(organization=other_world.org)
    assert all(a.client.organization_id == other_world.org.pk for a in alerts(other_world))


def test_the_daily_task_runs_everything_twice_safely(world, clock):
    clock(at(0))
    send_request(world)
    move(world, "initiate")
    clock(at(25))
    first = engagement_daily_task(organization_id=world.org.pk)
    assert first["reminders"] == 1 and first["snapshots"] == 1
    count = len(alerts(world))
    second = engagement_daily_task(organization_id=world.org.pk)
    assert second["reminders"] == 0 and len(alerts(world)) == count
    assert {a.kind for a in alerts(world)} == {
        "cadence",
        "senior_leader",
        "stuck",
        "survey_unanswered",
    }
    assert engagement_daily_task(organization_id=10**9) == {}


def test_beat_schedule_has_the_daily_run(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["engagement-daily"]
    assert entry["task"] == "engagement.tasks.engagement_daily_all_task"
