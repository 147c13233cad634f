"""The engagement endpoints over HTTP: alerts, playbooks, feedback requests, client health,
PM suggestions. (Who may call what, on whose objects, is the isolation matrix's job.)"""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client as BrowserClient

from accounts.models import Role
from accounts.services import organization_setup
from engagement.models import Alert
from engagement.services.alerts import alerts_for_low_score
from engagement.services.health import health_refresh
from journey.models import Feedback
from journey.services import feedback_create
from tests.engagement.conftest import LINK, at, committed, send_request
from tests.factories import ContactFactory, FeedbackFactory

pytestmark = pytest.mark.django_db


def low_score(world, n: int = 1):
    for _ in range(n):
        feedback_create(
            actor=world.am,
            project=world.project.pk,
            kind="csat",
            score=1,
            phase="assess",
            responded_at=at(-1),
            comment="Slow answers",
        )


# --- the whole loop, as the issue tells it -----------------------------------------------------
def test_gate_link_low_answer_alert_resolved(
    world, clock, session_client, django_capture_on_commit_callbacks
):
    """A move closes the assess gate; the contact opens the e-mailed link, answers 2 of 5 with a
    comment; the account manager sees the alert in the inbox and resolves it with a note."""
    clock(at(0))
    am = session_client(world.am.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = session_client(world.pm.user).post(
            f"/api/v1/projects/{world.project.pk}/transition/", {"to": "initiate"}, format="json"
        )
    assert response.status_code == 200, response.content
    [message] = mail.outbox
    [token] = LINK.findall(message.body)
    contact = BrowserClient()
    assert contact.get(f"/survey/{token}/").status_code == 200
    clock(at(0, hours=3))
    response = contact.post(f"/survey/{token}/", {"score": "2", "comment": "Kick-off was chaotic."})
    assert response.status_code == 302
    inbox = am.get("/api/v1/alerts/", {"mine": "true", "state": "open"}).json()
    assert inbox["count"] == 1
    [alert] = inbox["results"]
    assert alert["kind"] == "low_score" and alert["message"] == "Kick-off was chaotic."
    assert alert["assignee"] == world.am.user.email and alert["state"] == "open"
    response = am.post(
        f"/api/v1/alerts/{alert['id']}/resolve/", {"note": "Called Dana, new plan."}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "resolved"
    assert response.json()["resolved_by"] == world.am.user.email
    assert am.get("/api/v1/alerts/", {"mine": "true", "state": "open"}).json()["count"] == 0
    # The sponsor still has theirs.
    sponsor = session_client(world.sponsor.user)
    assert sponsor.get("/api/v1/alerts/", {"mine": "true", "state": "open"}).json()["count"] == 1


# --- alerts -----------------------------------------------------------------------------------
def test_alert_filters(world, clock, session_client, key_client):
    clock(at(0))
    low_score(world, 2)
    am = session_client(world.am.user)
    mine = am.get("/api/v1/alerts/", {"mine": "true"}).json()["results"]
    assert len(mine) == 2
    response = am.post(
        f"/api/v1/alerts/{mine[0]['id']}/snooze/", {"until": "2026-03-09"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "snoozed"
    am.post(f"/api/v1/alerts/{mine[1]['id']}/resolve/", {"note": "ok"}, format="json")
    counts = {
        state: am.get("/api/v1/alerts/", {"state": state, "mine": "true"}).json()["count"]
        for state in ("open", "snoozed", "resolved")
    }
    assert counts == {"open": 0, "snoozed": 1, "resolved": 1}
    assert am.get("/api/v1/alerts/", {"kind": "stuck"}).json()["count"] == 0
    assert am.get("/api/v1/alerts/", {"assignee": world.sponsor.user.email}).json()["count"] == 2
    assert key_client(world.org).get("/api/v1/alerts/", {"mine": "true"}).json()["count"] == 0
    assert am.get("/api/v1/alerts/", {"state": "dormant"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("resolve", {"note": ""}, "note"),
        ("resolve", {}, "note"),
        ("snooze", {"until": "2026-03-01"}, "until"),
        ("snooze", {"until": "tomorrow"}, "until"),
        ("snooze", {}, "until"),
    ],
)
def test_alert_actions_bad_input(world, clock, session_client, path, body, field):
    clock(at(0))
    low_score(world)
    alert = Alert.objects.for_organization(world.org).first()
    response = session_client(world.am.user).post(
        f"/api/v1/alerts/{alert.pk}/{path}/", body, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]
    fresh = Alert.objects.for_organization(world.org).get(pk=alert.pk)
    assert (fresh.resolved_at, fresh.snoozed_until) == (None, None)


def test_alert_list_query_count_does_not_grow(
    world, clock, session_client, django_assert_num_queries
):
    clock(at(0))
    low_score(world, 1)
    am = session_client(world.am.user)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    am.get("/api/v1/alerts/")  # warm: session, content types
    with CaptureQueriesContext(connection) as few:
        am.get("/api/v1/alerts/")
    low_score(world, 5)
    with django_assert_num_queries(len(few)):
        assert am.get("/api/v1/alerts/").json()["count"] == 12


# --- playbooks --------------------------------------------------------------------------------
def test_playbooks_list_patch_by_admin(world, clock, session_client):
    clock(at(0))
    organization_setup(organization=world.org)  # what creating the organization does
    admin = session_client(world.admin.user)
    rows = admin.get("/api/v1/playbooks/").json()["results"]
    assert [r["service_model"] for r in rows] == ["consultative", "transactional"]
    assert rows[0]["cadence_days"]["execute"] == 7
    assert rows[0]["suggested_target_days"]["assess"] == {"p50": None, "n": 0, "exact": True}
    url = f"/api/v1/playbooks/{rows[0]['id']}/"
    response = admin.patch(url, {"cadence_days": {"execute": 5}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["cadence_days"] == {
        "assess": 14,
        "initiate": 7,
        "plan": 7,
        "execute": 5,
        "close_out": 14,
    }
    for body, field in [
        ({"cadence_days": {"launch": 5}}, "cadence_days"),
        ({"cadence_days": {"execute": 0}}, "cadence_days"),
        ({"target_days": "long"}, "target_days"),
    ]:
        response = admin.patch(url, body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()
    assert admin.get(url).json()["cadence_days"]["execute"] == 5
    am = session_client(world.am.user)
    assert am.patch(url, {"notes": "x"}, format="json").status_code == 403


# --- feedback requests ------------------------------------------------------------------------
def test_request_created_over_the_api_is_emailed_after_commit(
    world, clock, session_client, django_capture_on_commit_callbacks
):
    clock(at(0))
    am = session_client(world.am.user)
    body = {
        "project": world.project.pk,
        "contact": world.contact.pk,
        "kind": "csat",
        "phase": "assess",
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = am.post("/api/v1/feedback-requests/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "unsent" and created["origin"] == "request"
    assert created["client"] == world.client.pk and mail.outbox == []
    with committed():  # the commit: the send task runs, its e-mail goes out after its commit
        for callback in callbacks:
            callback()
    assert mail.outbox[0].to == [world.contact.email]
    got = am.get(f"/api/v1/feedback-requests/{created['id']}/").json()
    assert got["status"] == "pending" and got["sent_at"] == "2026-03-02T09:00:00Z"
    assert got["expires_at"] == "2026-04-01T09:00:00Z"
    assert "token" not in str(got).lower()


def test_request_bad_references_and_listing(world, other_world, clock, session_client):
    clock(at(0))
    am = session_client(world.am.user)
    no_email = ContactFactory(client=world.client, organization=world.org, email="")
    base = {
        "project": world.project.pk,
        "contact": world.contact.pk,
        "kind": "csat",
        "phase": "assess",
    }
    for change, field in [
        ({"contact": no_email.pk}, "contact"),
        ({"contact": other_world.contact.pk}, "contact"),
        ({"project": other_world.project.pk}, "project"),
        ({"phase": "execute"}, "phase"),
        ({"kind": "ces"}, "kind"),
    ]:
        response = am.post("/api/v1/feedback-requests/", {**base, **change}, format="json")
        assert response.status_code == 400, change
        assert list(response.json()) == [field], response.json()
    assert not Feedback.objects.for_organization(world.org).exists()
    send_request(world)
    FeedbackFactory(project=world.project, organization=world.org)  # a recorded score
    rows = am.get("/api/v1/feedback-requests/", {"project": world.project.pk}).json()
    assert rows["count"] == 1 and rows["results"][0]["status"] == "pending"


# --- client health, PM suggestions ----------------------------------------------------------
def test_client_health_list_and_breakdown(world, other_world, clock, session_client):
    clock(at(0))
    low_score(world)
    # What the change's after-commit refresh does (the test runs in one transaction).
    health_refresh(organization=world.org, client_ids=[world.client.pk])
    viewer = session_client(world.viewer.user)
    rows = viewer.get("/api/v1/client-health/").json()
    assert rows["count"] == 1
    row = rows["results"][0]
    assert row["id"] == world.client.pk and set(row["components"]) == {
        "feedback",
        "milestones",
        "touchpoints",
        "alerts",
        "stuck",
    }
    # feedback 0 (CSAT 1), touchpoints 0 (60 days silent, cadence 14), alerts 50 (two open),
    # stuck 0 (assess 60 days, target 45); no milestones: (15 x 50) / 80 = 9.375 -> 9
    assert row["score"] == 9 and row["at_risk"] is True
    detail = viewer.get(f"/api/v1/client-health/{world.client.pk}/").json()
    assert detail["weights"] == {
        "feedback": 30,
        "milestones": 20,
        "touchpoints": 20,
        "alerts": 15,
        "stuck": 15,
    }
    assert detail["trend"] == []  # the daily run adds a point a day
    assert detail["components"]["alerts"]["score"] == 50.0
    assert viewer.get("/api/v1/client-health/", {"at_risk": "false"}).json()["count"] == 0
    assert viewer.get("/api/v1/client-health/", {"at_risk": "maybe"}).status_code == 400
    assert viewer.get(f"/api/v1/client-health/{other_world.client.pk}/").status_code == 404


def test_pm_suggestions_endpoint(world, clock, session_client):
    clock(at(0))
    rows = (
        session_client(world.viewer.user)
        .get(f"/api/v1/projects/{world.project.pk}/pm-suggestions/")
        .json()
    )
    assert [(r["rank"], r["project_manager"], r["is_current"]) for r in rows] == [
        (1, world.pm.user.email, True)
    ]
    assert rows[0]["reasons"][-1] == "Current project manager"


def test_closed_loop_on_the_api_stays_in_the_organization(world, other_world, clock, key_client):
    clock(at(0))
    fb = FeedbackFactory(project=other_world.project, organization=other_world.org, score=1)
    alerts_for_low_score(feedback=fb)
    assert key_client(world.org).get("/api/v1/alerts/").json()["count"] == 0


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: session, content types
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_query_counts_do_not_grow_with_rows(world, clock, session_client):
    from tests.factories import ClientFactory

    clock(at(0))
    viewer = session_client(world.viewer.user)
    send_request(world)
    few = {u: _queries(viewer, u) for u in ("/api/v1/client-health/", "/api/v1/feedback-requests/")}
    for _ in range(4):
        ClientFactory(organization=world.org)
        send_request(world)
    low_score(world, 3)
    many = {u: _queries(viewer, u) for u in few}
    assert many == few


def test_a_project_manager_acts_only_on_alerts_about_their_projects_or_for_them(
    world, clock, session_client, make_actor
):
    """A low score on the PM's project alerts the account manager: the project's PM may
    close that loop too; another PM may not (403, nothing changes); neither may the PM act
    on an alert about a client with no project of theirs."""
    clock(at(0))
    low_score(world)
    alert = Alert.objects.for_organization(world.org).get(kind="low_score", assignee=world.am.user)
    assert alert.project_id == world.project.pk
    other_pm = make_actor(world.org, Role.PROJECT_MANAGER)
    outsider = session_client(other_pm.user)
    url = f"/api/v1/alerts/{alert.pk}/"
    response = outsider.post(url + "resolve/", {"note": "Not mine"}, format="json")
    assert response.status_code == 403
    assert "assigned to them or about their projects" in response.json()["detail"]
    assert outsider.post(url + "snooze/", {"until": at(3).date()}, format="json").status_code == 403
    alert.refresh_from_db()
    assert alert.resolved_at is None and alert.snoozed_until is None
    # The browser's inbox offers no buttons for it, and a forged POST is a 403 page.
    inbox = outsider.get("/alerts/?who=all").content.decode()
    assert f'id="alert-{alert.pk}"' in inbox
    row = inbox.split(f'id="alert-{alert.pk}"')[1].split("</li>")[0]
    assert 'data-testid="resolve"' not in row
    forged = outsider.post(f"/alerts/{alert.pk}/resolve/", {f"a{alert.pk}-note": "x"})
    assert forged.status_code == 403
    # The project's own PM may.
    own = session_client(world.pm.user)
    response = own.post(url + "resolve/", {"note": "Called the sponsor"}, format="json")
    assert response.status_code == 200, response.content
