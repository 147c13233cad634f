"""Browser pages of issue 6: the alert inbox (tabs, resolve and snooze inline, counts in the
navigation, the overview's open alerts), survey requests and PM suggestions on the project
page, health and surveys on the client page, at-risk clients on the dashboard, and the admins'
engagement settings. Every page per role, another organization's ids are 404s, a viewer's
forged POST is a 403 that changes nothing, services' refusals show inline, and query counts
do not grow with the data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from engagement.models import Alert, Playbook
from engagement.services.health import at_risk_clients, client_health
from engagement.services.playbooks import (
    gate_surveys_enabled,
    health_weights,
    playbooks_ensure,
)
from journey.models import Feedback
from metrics.services import metrics_recompute
from tests.factories import ContactFactory
from tests.web.conftest import add_engagement, grow, page

pytestmark = pytest.mark.django_db

ROLES = ["admin", "exec", "am", "pm", "viewer"]
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def engaged(world):
    return add_engagement(world)


def alerts_of(world, **filters):
    return Alert.objects.for_organization(world.org).filter(**filters)


def low_score_alert(world) -> Alert:
    return alerts_of(world, kind="low_score").get()


def engagement_pages(w) -> dict[str, str]:
    return {
        "inbox": reverse("alerts"),
        "inbox snoozed": reverse("alerts") + "?state=snoozed",
        "inbox resolved": reverse("alerts") + "?state=resolved",
        "inbox everyone": reverse("alerts") + "?who=all",
        "home": reverse("home"),
        "project": reverse("project_detail", args=[w.running.pk]),
        "client": reverse("client_detail", args=[w.pharma.pk]),
        "dashboard": reverse("dashboard"),
    }


# --- every page, every role -----------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_engagement_pages_render_for_every_role(engaged, login, role):
    http = login(engaged.people[role])
    for name, url in engagement_pages(engaged).items():
        response = http.get(url)
        assert response.status_code == 200, (name, response.status_code)
        assert "HX-Request" in response["Vary"], name
    settings = http.get(reverse("engagement_settings"))
    assert settings.status_code == (200 if role == "admin" else 403)
    nav = page(http, reverse("home"))
    assert ('data-nav="settings"' in nav) == (role == "admin")
    assert ('data-nav="alerts"' in nav) == (role != "viewer")


def test_inbox_tabs_show_the_users_alerts_by_state(engaged, login):
    http = login(engaged.people["am"])
    html = http.get(reverse("alerts")).content.decode()
    assert html.count('data-testid="alert"') == 3
    assert "Kick-off was chaotic." in html and "Snoozed one" not in html
    assert re.search(r'data-state="open"[^>]*>Open <span class="count">3</span>', html)
    assert re.search(r'data-state="snoozed"[^>]*>Snoozed <span class="count">1</span>', html)
    assert 'data-testid="resolve"' in html and 'data-testid="snooze"' in html
    snoozed = http.get(reverse("alerts") + "?state=snoozed").content.decode()
    assert "Snoozed one" in snoozed and "snoozed until" in snoozed
    assert 'data-testid="snooze"' not in snoozed and 'data-testid="resolve"' in snoozed
    resolved = http.get(reverse("alerts") + "?state=resolved").content.decode()
    assert "Resolved one" in resolved and "Called them." in resolved
    assert 'data-testid="resolve"' not in resolved
    # Someone else's inbox is empty; "everyone's" shows the AM's alerts with their name.
    pm = login(engaged.people["pm"])
    assert 'data-testid="alert"' not in pm.get(reverse("alerts")).content.decode()
    everyone = pm.get(reverse("alerts") + "?who=all").content.decode()
    assert everyone.count('data-testid="alert"') == 3 and "for Amy Account" in everyone
    # The tab list as an htmx partial; a made-up state falls back to open.
    http = login(engaged.people["am"])
    partial = http.get(reverse("alerts") + "?state=resolved", **HX, HTTP_HX_TARGET="results")
    assert b"<html" not in partial.content and b"Resolved one" in partial.content
    assert http.get(reverse("alerts") + "?state=bogus").context["state"] == "open"


def test_navigation_counts_and_overview_show_open_alerts(engaged, login):
    http = login(engaged.people["am"])
    html = page(http, reverse("home"))
    assert re.search(r'id="nav-alert-count"[^>]*>3</span>', html)
    home = html.split('data-testid="home-alerts"')[1]
    assert "CSAT 2/5 from Paula Primary on BIG-002" in home and "Kick-off was chaotic." in home
    assert "Snoozed one" not in home and "Resolved one" not in home
    other = page(login(engaged.people["pm"]), reverse("home"))
    assert re.search(r'id="nav-alert-count"[^>]*>0</span>', other)
    assert 'data-testid="home-alerts"' not in other


def test_viewer_sees_no_engagement_edit_controls(engaged, login):
    http = login(engaged.people["viewer"])
    for name, url in engagement_pages(engaged).items():
        html = page(http, url)
        for marker in (
            'data-testid="resolve"',
            'data-testid="snooze"',
            'data-testid="survey-form"',
            'data-testid="assign-pm"',
        ):
            assert marker not in html, (name, marker)


# --- resolve and snooze inline --------------------------------------------------------------
def test_am_resolves_an_alert_inline_with_a_note(engaged, login):
    http = login(engaged.people["am"])
    alert = low_score_alert(engaged)
    url = reverse("alert_resolve", args=[alert.pk])
    field = f"a{alert.pk}-note"
    html = http.post(url, {field: "  "}, **HX).content.decode()
    assert 'data-error-for="note">This field may not be blank.' in html
    assert "<html" not in html and f'id="alert-{alert.pk}"' in html
    assert alerts_of(engaged, pk=alert.pk, resolved_at__isnull=True).exists()

    html = http.post(url, {field: "Called Paula; new kick-off plan."}, **HX).content.decode()
    assert 'data-state="resolved"' in html and "Resolved." in html
    assert "Called Paula; new kick-off plan." in html
    # The navigation's count follows, out of band.
    assert re.search(r'id="nav-alert-count"[^>]*hx-swap-oob="true"[^>]*>2</span>', html)
    tabs = html.split('data-testid="alert-tabs"')[1].split("</nav>")[0]
    assert 'hx-swap-oob="true"' in tabs and re.search(r'>Open <span class="count">2</span>', tabs)
    alert.refresh_from_db()
    assert alert.resolved_by == engaged.people["am"].user
    assert alert.resolution_note == "Called Paula; new kick-off plan."
    # Twice: the service's refusal, inline.
    html = http.post(url, {field: "again"}, **HX).content.decode()
    assert "This alert is already resolved." in html
    # Without htmx: a redirect to the inbox with a message.
    other = alerts_of(engaged, title="Quiet client 1").get()
    response = http.post(
        reverse("alert_resolve", args=[other.pk]), {f"a{other.pk}-note": "Visited."}
    )
    assert response.status_code == 302 and response.url == reverse("alerts")
    assert alerts_of(engaged, pk=other.pk, resolved_at__isnull=False).exists()


def test_am_snoozes_an_alert_inline(engaged, login):
    http = login(engaged.people["am"])
    alert = low_score_alert(engaged)
    url = reverse("alert_snooze", args=[alert.pk])
    field = f"a{alert.pk}-until"
    html = http.post(url, {field: "soon"}, **HX).content.decode()
    assert 'data-error-for="until">Enter a valid date.' in html
    today = timezone.now().date()
    html = http.post(url, {field: today.isoformat()}, **HX).content.decode()
    assert "Snooze until a date after today and within a year." in html
    alert.refresh_from_db()
    assert alert.snoozed_until is None
    until = today + dt.timedelta(days=7)
    html = http.post(url, {field: until.isoformat()}, **HX).content.decode()
    assert f"Snoozed until {until.isoformat()}" in html and 'data-state="snoozed"' in html
    alert.refresh_from_db()
    assert alert.snoozed_until == until
    assert "Kick-off" not in http.get(reverse("alerts")).content.decode()
    assert "Kick-off" in http.get(reverse("alerts") + "?state=snoozed").content.decode()


# --- permissions: viewer 403, another organization 404 --------------------------------------
def forged_posts(w) -> list[tuple[str, dict]]:
    alert = low_score_alert(w)
    playbook = playbooks_ensure(organization=w.org)[0]
    return [
        (reverse("alert_resolve", args=[alert.pk]), {f"a{alert.pk}-note": "Forged"}),
        (reverse("alert_snooze", args=[alert.pk]), {f"a{alert.pk}-until": "2099-01-01"}),
        (
            reverse("survey_request", args=[w.running.pk]),
            {"contact": w.contact.pk, "kind": "csat", "phase": "plan"},
        ),
        (
            reverse("project_assign_pm", args=[w.running.pk]),
            {"project_manager": "pm2@alpha.example"},
        ),
        (reverse("playbook_save", args=[playbook.pk]), {f"pb{playbook.pk}-notes": "Forged"}),
        (reverse("health_weights_save"), {n: 1 for n in health_weights(organization=w.org)}),
        (reverse("gate_surveys_save"), {"enabled": []}),
    ]


def test_viewer_forged_engagement_posts_are_403_and_change_nothing(engaged, login):
    forged = forged_posts(engaged)
    before = AuditEvent.objects.for_organization(engaged.org).count()
    requests_before = Feedback.objects.for_organization(engaged.org).count()
    for role in ("viewer",):
        http = login(engaged.people[role])
        for url, data in forged:
            assert http.post(url, data).status_code == 403, url
            assert http.post(url, data, **HX).status_code == 403, url
    # Roles without the right get a 403 too: settings are the admins', PM reassignment the AM's.
    am, pm = login(engaged.people["am"]), None
    for url, data in forged[4:]:
        assert am.post(url, data).status_code == 403, url
    pm = HttpClient()
    pm.force_login(engaged.people["pm"].user)
    for url, data in forged[2:]:
        assert pm.post(url, data).status_code == 403, url
    assert AuditEvent.objects.for_organization(engaged.org).count() == before
    assert Feedback.objects.for_organization(engaged.org).count() == requests_before
    assert alerts_of(engaged, resolved_at__isnull=True, snoozed_until__isnull=True).count() == 3
    engaged.running.refresh_from_db()
    assert engaged.running.project_manager.email == "pm@alpha.example"
    assert gate_surveys_enabled(organization=engaged.org, service_model="transactional")


@pytest.mark.parametrize("role", ["admin", "am", "viewer"])
def test_another_organizations_engagement_objects_are_404(engaged, elsewhere, login, role):
    add_engagement(elsewhere)
    http = login(engaged.people[role])
    forged = forged_posts(elsewhere)[:5]
    before = AuditEvent.objects.unscoped_dangerously().count()
    for url, data in forged:
        response = http.post(url, data)
        assert response.status_code == 404, (url, response.status_code)
        assert http.post(url, data, **HX).status_code == 404, url
    assert AuditEvent.objects.unscoped_dangerously().count() == before
    # Their alerts are not in this organization's inbox either.
    html = http.get(reverse("alerts") + "?who=all").content.decode()
    assert "Beta" not in html and str(low_score_alert(elsewhere).pk) not in re.findall(
        r'data-alert="(\d+)"', html
    )


# --- project page: survey requests, send a survey, PM suggestions ---------------------------
def test_project_page_shows_survey_requests_and_response_rate(engaged, login):
    html = page(
        login(engaged.people["viewer"]), reverse("project_detail", args=[engaged.running.pk])
    )
    surveys = html.split('data-testid="surveys"')[1].split("</section>")[0]
    assert surveys.count('data-survey-status="answered"') == 1
    assert surveys.count('data-survey-status="pending"') == 1
    assert "answered: 4" in surveys and "Smooth so far" in surveys
    assert "response rate <strong>50%</strong> (1 of 2 sent)" in surveys
    today = timezone.now().date().isoformat()
    assert f'data-testid="reminded">reminded {today}' in surveys
    assert 'data-testid="survey-form"' not in html


def test_am_sends_a_survey_and_a_contact_without_email_is_refused_inline(
    engaged, login, django_capture_on_commit_callbacks, mailoutbox
):
    http = login(engaged.people["am"])
    shown = page(http, reverse("project_detail", args=[engaged.running.pk]))
    assert 'data-testid="survey-form"' in shown and "Paula Primary" in shown
    assert f'<option value="{engaged.contact.pk}" selected>' in shown  # the primary contact
    url = reverse("survey_request", args=[engaged.running.pk])
    mute = ContactFactory(client=engaged.pharma, name="No Mail", email="")
    html = http.post(
        url, {"contact": mute.pk, "kind": "csat", "phase": "execute"}, **HX
    ).content.decode()
    assert "This contact has no e-mail address to send the survey to." in html
    assert "<html" not in html
    html = http.post(url, {"contact": "", "kind": "csat", "phase": "execute"}, **HX).content
    assert b"This field is required." in html
    before = Feedback.objects.for_organization(engaged.org).count()
    with django_capture_on_commit_callbacks(execute=True):
        html = http.post(
            url, {"contact": engaged.contact.pk, "kind": "nps", "phase": "execute"}, **HX
        ).content.decode()
    assert "Survey sent to Paula Primary" in html
    assert Feedback.objects.for_organization(engaged.org).count() == before + 1
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [engaged.contact.email]
    shown = page(http, reverse("project_detail", args=[engaged.running.pk]))
    assert "response rate <strong>33%</strong> (1 of 3 sent)" in shown


def test_pm_suggestions_with_reasons_and_assignment(engaged, login):
    http = login(engaged.people["am"])
    html = page(http, reverse("project_detail", args=[engaged.running.pk]))
    block = html.split('data-testid="pm-suggestions"')[1].split("</section>")[0]
    assert "Pat Project" in block and "Quinn Project" in block
    assert "Current project manager" in block and "open project(s) now" in block
    assert block.count('data-testid="assign-pm"') == 1  # not for the current PM
    viewer = login(engaged.people["viewer"])
    html = page(viewer, reverse("project_detail", args=[engaged.running.pk]))
    assert "Quinn Project" in html and 'data-testid="assign-pm"' not in html
    http = login(engaged.people["am"])
    url = reverse("project_assign_pm", args=[engaged.running.pk])
    response = http.post(url, {"project_manager": "stranger@else.example"}, follow=True)
    assert response.status_code == 200
    engaged.running.refresh_from_db()
    assert engaged.running.project_manager.email == "pm@alpha.example"
    response = http.post(url, {"project_manager": "pm2@alpha.example"}, follow=True)
    assert "Quinn Project is now the project manager." in response.content.decode()
    engaged.running.refresh_from_db()
    assert engaged.running.project_manager.email == "pm2@alpha.example"


# --- client page: health, trend, surveys ----------------------------------------------------
def test_client_page_shows_health_breakdown_trend_and_surveys(engaged, login):
    health = client_health(organization=engaged.org, client_id=engaged.pharma.pk)
    html = page(login(engaged.people["viewer"]), reverse("client_detail", args=[engaged.pharma.pk]))
    block = html.split('data-testid="health"')[1].split("</section>")[0]
    assert re.search(rf'data-testid="health-score">{health.score}<small>/100', block)
    weights = health_weights(organization=engaged.org)
    for name, row in health.as_dict().items():
        cells = block.split(f'data-component="{name}"')[1].split("</tr>")[0]
        assert f'<td class="r num">{weights[name]}</td>' in cells, name
        assert row["detail"] in cells, name
    assert 'id="health-chart"' in block and 'data-testid="health-trend"' in block
    assert timezone.now().date().isoformat() in block  # today's snapshot in the table
    assert "vendor/chart.umd.min.js" in html
    surveys = html.split('data-testid="surveys"')[1].split("</section>")[0]
    assert "BIG-002" in surveys and "(1 of 2 sent, 1 reminded)" in surveys
    # A client without snapshots: no chart, a sentence instead.
    html = page(login(engaged.people["viewer"]), reverse("client_detail", args=[engaged.bio.pk]))
    assert "No survey requests yet" in html
    assert "chart.umd.min.js" in html or "No daily scores yet" not in html


# --- dashboard: at-risk clients -------------------------------------------------------------
def test_dashboard_lists_at_risk_clients(engaged, login):
    risky = at_risk_clients(organization=engaged.org)
    assert risky, "the fixture has an at-risk client (Tiny Bio: stuck in assess, no touchpoint)"
    html = page(login(engaged.people["exec"]), reverse("dashboard"))
    block = html.split('data-testid="at-risk"')[1].split("</section>")[0]
    for h in risky:
        assert f'href="{reverse("client_detail", args=[h.client.pk])}"' in block
        assert f">{h.score}</span>" in block
    assert 'class="tag"' in block  # the weakest components
    # The htmx body reload does not recompute it.
    partial = login(engaged.people["exec"]).get(
        reverse("dashboard"), **HX, HTTP_HX_TARGET="dash-body"
    )
    assert b'data-testid="at-risk"' not in partial.content


# --- settings: playbooks, weights, gate surveys ---------------------------------------------
def test_admin_edits_playbooks_with_inline_errors(world, login):
    metrics_recompute(organization=world.org)  # the p50 suggestions are the stored figures
    http = login(world.people["admin"])
    html = http.get(reverse("engagement_settings")).content.decode()
    playbooks = {p.service_model: p for p in playbooks_ensure(organization=world.org)}
    assert html.count('data-testid="playbook"') == 2
    assert 'data-p50="execute"' in html and "Consultative" in html
    # The p50 of execute for transactional (Bigco's running project left plan after 50 d).
    block = html.split('data-service-model="transactional"')[1].split("</section>")[0]
    assert re.search(
        r'data-p50="plan"><button[^>]*>50 d</button> <span class="faint small">n 1', block
    )
    pb = playbooks["consultative"]
    url = reverse("playbook_save", args=[pb.pk])
    data = {f"pb{pb.pk}-cadence_days__{p}": "7" for p in ("assess", "initiate", "plan")}
    data[f"pb{pb.pk}-cadence_days__execute"] = "0"
    data[f"pb{pb.pk}-senior_leader_expected"] = "on"
    data[f"pb{pb.pk}-senior_leader_every_days"] = "30"
    html = http.post(url, data, **HX).content.decode()
    assert 'data-error-for="cadence_days">Cadence: Between 1 and 3650 days.' in html
    data[f"pb{pb.pk}-cadence_days__execute"] = "weekly"
    html = http.post(url, data, **HX).content.decode()
    assert "&#x27;weekly&#x27; is not a whole number of days." in html
    data[f"pb{pb.pk}-cadence_days__execute"] = "5"
    data[f"pb{pb.pk}-senior_leader_every_days"] = ""
    html = http.post(url, data, **HX).content.decode()
    assert 'data-error-for="senior_leader_every_days">Say how often a senior leader' in html
    pb.refresh_from_db()
    assert pb.cadence_days["execute"] == 7
    data[f"pb{pb.pk}-senior_leader_every_days"] = "21"
    data[f"pb{pb.pk}-target_days__execute"] = "120"
    html = http.post(url, data, **HX).content.decode()
    assert "Playbook saved." in html and "<html" not in html
    pb = Playbook.objects.for_organization(world.org).get(pk=pb.pk)
    assert pb.cadence_days["execute"] == 5 and pb.cadence_days["close_out"] is None
    assert pb.target_days["execute"] == 120 and pb.senior_leader_every_days == 21
    # Without htmx: a redirect back with a message.
    response = http.post(url, data)
    assert response.status_code == 302 and response.url == reverse("engagement_settings")


def test_admin_sets_health_weights_and_gate_surveys(world, login):
    http = login(world.people["admin"])
    url = reverse("health_weights_save")
    zero = dict.fromkeys(health_weights(organization=world.org), 0)
    html = http.post(url, zero, **HX).content.decode()
    assert "At least one weight must be above 0." in html
    response = http.post(url, zero)  # without htmx: the whole page, the error inline
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and 'data-testid="playbook"' in html
    assert "At least one weight must be above 0." in html
    html = http.post(url, {**zero, "feedback": 150}, **HX).content.decode()
    assert "Weights are whole numbers from 0 to 100." in html
    html = http.post(url, {**zero, "feedback": "lots"}, **HX).content.decode()
    assert 'data-error-for="feedback">Enter a whole number.' in html
    html = http.post(url, {**zero, "feedback": 60, "alerts": 40}, **HX).content.decode()
    assert "Health weights saved." in html and "Open alerts 40%" in html
    assert health_weights(organization=world.org) == {**zero, "feedback": 60, "alerts": 40}

    url = reverse("gate_surveys_save")
    html = http.post(url, {"enabled": ["consultative"]}, **HX).content.decode()
    assert "Gate surveys saved." in html
    assert not gate_surveys_enabled(organization=world.org, service_model="transactional")
    assert gate_surveys_enabled(organization=world.org, service_model="consultative")
    page = http.get(reverse("engagement_settings")).content.decode()
    assert re.search(r'value="consultative"[^>]*checked', page)
    assert not re.search(r'value="transactional"[^>]*checked', page)
    html = http.post(url, {"enabled": ["nonsense"]}, **HX).content.decode()
    assert 'data-error-for="enabled">Select a valid choice.' in html


# --- query counts constant in data size -----------------------------------------------------
def engagement_query_pages(w) -> list[tuple[str, str, str, dict]]:
    return [
        ("inbox", "am", reverse("alerts"), {}),
        ("inbox resolved", "am", reverse("alerts") + "?state=resolved", {}),
        ("inbox everyone", "pm", reverse("alerts") + "?who=all", {}),
        ("inbox partial", "am", reverse("alerts"), {**HX, "HTTP_HX_TARGET": "results"}),
        ("home", "am", reverse("home"), {}),
        ("project", "am", reverse("project_detail", args=[w.running.pk]), {}),
        ("client", "am", reverse("client_detail", args=[w.pharma.pk]), {}),
        ("dashboard", "exec", reverse("dashboard"), {}),
        ("settings", "admin", reverse("engagement_settings"), {}),
    ]


def test_engagement_query_counts_do_not_grow_with_data(world, django_assert_num_queries):
    clients = {}
    for role in ("am", "pm", "exec", "admin"):
        clients[role] = HttpClient()
        clients[role].force_login(world.people[role].user)
    grow(world, 10)
    add_engagement(world, alerts=2, surveys=1)
    small = {}
    for name, role, url, headers in engagement_query_pages(world):
        clients[role].get(url, **headers)  # warm
        with CaptureQueriesContext(connection) as queries:
            assert clients[role].get(url, **headers).status_code == 200, name
        small[name] = len(queries)
    print("queries per engagement page:", small)

    grow(world, 150)
    add_engagement(world, alerts=40, surveys=12)
    for name, role, url, headers in engagement_query_pages(world):
        with django_assert_num_queries(small[name]):
            response = clients[role].get(url, **headers)
        assert response.status_code == 200, name
    assert max(small.values()) <= 35, small
    # 42 open alerts: 20 a page, the next page swapped in place.
    html = clients["am"].get(reverse("alerts")).content.decode()
    assert html.count('data-testid="alert"') == 20 and "1\u201320 of 42" in html
    assert 'hx-get="?page=2" hx-target="#results"' in html
    partial = clients["am"].get(reverse("alerts") + "?page=3", **HX, HTTP_HX_TARGET="results")
    html = partial.content.decode()
    assert "<html" not in html and html.count('data-testid="alert"') == 2


def test_clients_list_shows_the_stored_health(engaged, login):
    from engagement.models import ClientHealthCurrent

    stored = {
        h.client_id: h.score for h in ClientHealthCurrent.objects.for_organization(engaged.org)
    }
    assert stored, "the fixture stored today's health"
    html = login(engaged.people["viewer"]).get(reverse("clients")).content.decode()
    for client_id, score in stored.items():
        cell = html.split(f'data-health="{client_id}">')[1].split("</td>")[0]
        assert (f">{score}</span>" in cell) if score is not None else ("—" in cell)
