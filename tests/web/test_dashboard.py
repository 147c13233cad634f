"""The executive dashboard: pooling stored figures over a range (checked against numbers worked
out by hand), trends, filters, the funnel from the journal, provisional labels, recompute
with polling."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from metrics import dashboard as dash
from metrics.dashboard import DashboardFilters, format_value, pool, trend
from metrics.models import MetricResult, MetricRun

pytestmark = pytest.mark.django_db


def row(key, period, value, num=None, den=None, n=1, provisional=False, dim="overall", dv="all"):
    return (key, dim, dv, period, value, num, den, n, provisional)


def test_pool_rates_means_nps_exactly_and_medians_approximately():
    rates = [row("win_rate", "2026-01", 2 / 3, 2, 3, 3), row("win_rate", "2026-02", 1.0, 1, 1, 1)]
    assert pool("win_rate", rates).value == pytest.approx(0.75)
    assert pool("win_rate", rates).n == 4 and not pool("win_rate", rates).approximate
    csat = [row("csat_avg", "2026-01", 4.0, 8, 2, 2), row("csat_avg", "2026-02", 3.0, 3, 1, 1)]
    assert pool("csat_avg", csat).value == pytest.approx(11 / 3)
    nps = [row("nps", "2026-01", 25.0, 1, 4, 4), row("nps", "2026-02", -50.0, -1, 2, 2)]
    assert pool("nps", nps).value == pytest.approx(0.0)
    medians = [
        row("time_to_decision_days", "2026-01", 10.0, n=1),
        row("time_to_decision_days", "2026-02", 20.0, n=3),
    ]
    figure = pool("time_to_decision_days", medians)
    assert figure.value == pytest.approx(17.5) and figure.approximate and figure.n == 4
    assert not pool("time_to_decision_days", medians[:1]).approximate
    clv = [
        row("client_lifetime_value", "2026-02", 300.0, 600, 2, 2),
        row("client_lifetime_value", "2026-01", 100.0, 100, 1, 1),
    ]
    assert pool("client_lifetime_value", clv).value == 300.0
    assert pool("client_lifetime_value", clv).period == "2026-02"
    repeat = [
        row("repeat_business_rate", "2026-01", 0.5, 1, 2, 2),
        row("repeat_business_rate", "2026-02", 0.0, 0, 1, 1, provisional=True),
    ]
    assert pool("repeat_business_rate", repeat).provisional
    assert pool("win_rate", []).value is None


def test_format_and_trend():
    assert format_value("win_rate", 0.756) == "76%"
    assert format_value("time_to_decision_days", 12.345) == "12.3 d"
    assert format_value("csat_avg", 4.216) == "4.22"
    assert format_value("nps", 35.2) == "+35" and format_value("nps", -7.6) == "-8"
    assert format_value("client_lifetime_value", 1_234_567) == "1.2M"
    assert format_value("touchpoints_per_active_client", 1.5) == "1.50"
    assert format_value("win_rate", None) == "—"
    up = trend("win_rate", 0.75, 0.5)
    assert (up.text, up.css) == ("▲ 25 pts", "good")
    slower = trend("time_to_decision_days", 30.0, 20.0)
    assert (slower.text, slower.css) == ("▲ 10.0 d", "bad")
    faster = trend("phase_duration_days.plan", 20.0, 30.0)
    assert (faster.text, faster.css) == ("▼ 10.0 d", "good")
    assert trend("csat_avg", 4.0, 4.001).css == "flat"
    assert trend("win_rate", 0.5, None) is None


def test_filters_default_swap_and_reject_garbage():
    today = dt.date(2026, 3, 15)
    f = dash.dashboard_filters({}, today=today)
    assert (f.period_from, f.period_to, f.slice) == ("2025-04", "2026-03", "overall:all")
    assert len(f.months) == 12 and f.previous == ("2024-04", "2025-03")
    f = dash.dashboard_filters(
        {"from": "2026-02", "to": "2025-11", "slice": "segment:biotech"}, today=today
    )
    assert (f.period_from, f.period_to, f.dimension, f.value) == (
        "2025-11",
        "2026-02",
        "segment",
        "biotech",
    )
    f = dash.dashboard_filters({"from": "2026-13", "to": "x", "slice": "evil:1"}, today=today)
    assert (f.period_from, f.period_to, f.slice) == ("2025-04", "2026-03", "overall:all")
    assert dash.month_add("2026-01", -1) == "2025-12" and dash.month_add("2025-12", 1) == "2026-01"


def test_funnel_counts_the_journal(world):
    today = timezone.now().date()
    f = dash.dashboard_filters({}, today=today)
    funnel = dash.journey_funnel(organization=world.org, filters=f)
    entered = {s.phase: s.entered for s in funnel["steps"]}
    assert entered == {"assess": 3, "initiate": 1, "plan": 1, "execute": 1, "close_out": 0}
    steps = {s.phase: s for s in funnel["steps"]}
    assert steps["assess"].conversion == pytest.approx(1 / 3)
    assert steps["assess"].open_now == 2 and steps["execute"].open_now == 1
    assert steps["close_out"].conversion is None
    biotech = dash.journey_funnel(
        organization=world.org,
        filters=DashboardFilters(f.period_from, f.period_to, "segment", "biotech"),
    )
    assert {s.phase: s.entered for s in biotech["steps"]}["assess"] == 1
    mine = dash.journey_funnel(
        organization=world.org,
        filters=DashboardFilters(f.period_from, f.period_to, "project_manager", "pm@alpha.example"),
    )
    assert {s.phase: s.entered for s in mine["steps"]}["assess"] == 2


def _result(org, key, period, value, num, den, n, provisional=False, dim="overall", dv="all"):
    return MetricResult.objects.create(
        organization=org,
        key=key,
        dimension=dim,
        dimension_value=dv,
        period=period,
        value=value,
        numerator=num,
        denominator=den,
        n=n,
        provisional=provisional,
        computed_at=timezone.now(),
    )


def test_dashboard_tiles_trend_provisional_and_slices(world, elsewhere, login):
    this = timezone.now().strftime("%Y-%m")
    last_year = dash.month_add(this, -12)
    org = world.org
    _result(org, "win_rate", this, 0.75, 3, 4, 4)
    _result(org, "win_rate", last_year, 0.5, 1, 2, 2)
    _result(org, "repeat_business_rate", this, 0.5, 1, 2, 2, provisional=True)
    _result(org, "win_rate", this, 1.0, 2, 2, 2, dim="segment", dv="biotech")
    _result(org, "win_rate", this, 0.2, 1, 5, 5, dim="segment", dv="big_pharma")
    _result(org, "csat_avg", this, 4.5, 9, 2, 2, dim="project_manager", dv="pm@alpha.example")
    _result(elsewhere.org, "win_rate", this, 0.01, 1, 100, 100)
    http = login(world.people["exec"])
    html = http.get(reverse("dashboard")).content.decode()
    tile = html[html.index('data-key="win_rate"') :][:900]
    assert "75%" in tile and "▲ 25 pts" in tile and "n = 4" in tile
    repeat = html[html.index('data-key="repeat_business_rate"') :][:1200]
    assert "provisional" in repeat
    assert "1%" not in tile  # the other organization's figure
    # Segments side by side, PM table by name.
    assert "Pat Project" in html
    # A segment slice redraws with that segment's figures (htmx partial).
    partial = http.get(
        reverse("dashboard") + "?slice=segment:biotech",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="dash-body",
    ).content.decode()
    assert "<html" not in partial and 'data-slice="segment:biotech"' in partial
    assert "· Segment: Biotech</span>" in partial
    tile = partial[partial.index('data-key="win_rate"') :][:900]
    assert "100%" in tile and "n = 2" in tile
    assert 'id="chart-data"' in partial


def test_recompute_shows_progress_until_the_run_finishes(
    world, login, django_capture_on_commit_callbacks
):
    http = login(world.people["exec"])
    page = http.get(reverse("dashboard")).content.decode()
    assert 'data-testid="recompute"' in page and "Not computed yet" in page
    # The test's transaction holds the task until "commit": the button shows a queued run
    # that polls; once the task ran, the poll answers the result and tells the page to reload.
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(reverse("metrics_recompute"), HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and "HX-Trigger" not in response
        html = response.content.decode()
        assert 'data-status="queued"' in html and 'hx-trigger="every 1s"' in html
    # (The world's own changes, still waiting in the outbox, may get their refresh too.)
    run = MetricRun.objects.for_organization(world.org).get(trigger="request")
    response = http.get(reverse("metrics_run", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert response["HX-Trigger"] == "metrics-recomputed"
    assert 'data-status="succeeded"' in response.content.decode()
    # ... and replaces the "figures computed" line out of band.
    assert 'id="last-computed" data-testid="last-computed" hx-swap-oob="true"' in (
        response.content.decode()
    )
    run.refresh_from_db()
    assert run.status == "succeeded" and run.requested_by == world.people["exec"].user
    assert MetricResult.objects.for_organization(world.org).exists()
    assert "Figures computed" in http.get(reverse("dashboard")).content.decode()
    # A queued run polls every second until it finishes.
    queued = MetricRun.objects.create(organization=world.org, trigger="request")
    html = http.get(
        reverse("metrics_run", args=[queued.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-trigger="every 1s"' in html and "Queued" in html
    page = http.get(reverse("dashboard")).content.decode()
    assert 'hx-trigger="every 1s"' in page  # a run under way keeps polling after a reload
    queued.status = "failed"
    queued.error = "boom"
    queued.save()
    response = http.get(reverse("metrics_run", args=[queued.pk]), HTTP_HX_REQUEST="true")
    assert (
        "Recompute failed" in response.content.decode()
        and "every 1s" not in response.content.decode()
    )


def test_export_csv_of_the_filtered_figures(world, elsewhere, login):
    this = timezone.now().strftime("%Y-%m")
    _result(world.org, "win_rate", this, 1.0, 2, 2, 2, dim="segment", dv="biotech")
    _result(world.org, "win_rate", this, 0.2, 1, 5, 5, dim="segment", dv="big_pharma")
    _result(elsewhere.org, "win_rate", this, 0.5, 1, 2, 2, dim="segment", dv="biotech")
    http = login(world.people["exec"])
    assert 'data-testid="export"' in http.get(reverse("dashboard")).content.decode()
    response = http.get(reverse("metrics_export") + "?slice=segment:biotech")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("key,dimension,dimension_value,period,value")
    assert len(lines) == 2 and lines[1].startswith(
        f"win_rate,segment,biotech,{this},1.0,2.0,2.0,2,"
    )
    am = login(world.people["am"])
    assert 'data-testid="export"' not in am.get(reverse("dashboard")).content.decode()
    assert am.get(reverse("metrics_export")).status_code == 403


def test_people_tables_show_the_ten_with_most_figures_then_all(world, login):
    """Twelve project managers, each with a milestone completed this month: the table
    shows ten, says how many there are, and `people=all` shows every one."""
    from accounts.permissions import Actor
    from journey.services import milestone_create, project_open
    from metrics.services import metrics_recompute
    from tests.factories import MembershipFactory

    admin = world.people["admin"]
    now = timezone.now()
    for i in range(12):
        pm = Actor.from_membership(
            MembershipFactory(organization=world.org, role="project_manager")
        )
        project = project_open(
            actor=admin,
            client=world.pharma.pk,
            name=f"Decided {i}",
            code=f"DEC-{i}",
            modality="adc",
            project_manager=pm.user.email,
            opened_at=now - dt.timedelta(days=3),
        )
        milestone_create(
            actor=admin,
            project=project.pk,
            phase="assess",
            title="Proposal",
            due_date=now.date(),
            completed_at=now,
        )
    metrics_recompute(organization=world.org)
    http = login(world.people["exec"])
    html = http.get(reverse("dashboard")).content.decode()
    table = html.split('data-testid="people-1"')[1].split("</section>")[0]
    assert table.count("<tr><td>") == 10 and 'data-testid="people-all"' in table
    everyone = http.get(reverse("dashboard") + "?people=all").content.decode()
    table = everyone.split('data-testid="people-1"')[1].split("</section>")[0]
    assert table.count("<tr><td>") >= 12 and 'data-testid="people-all"' not in table


@pytest.mark.parametrize(
    "query",
    [
        {"to": "9999-12"},
        {"from": "0001-01", "to": "0001-02"},
        {"slice": "segment:bio\x00tech"},
        {"slice": "project_manager:\x00"},
        {"to": "2026-13", "from": "-1"},
    ],
)
def test_dashboard_query_strings_fall_back_instead_of_failing(world, login, query):
    http = login(world.people["exec"])
    response = http.get(reverse("dashboard"), query)
    assert response.status_code == 200
    filters = response.context["filters"]
    this_month = timezone.now().strftime("%Y-%m")
    assert "1990-01" <= filters.period_from <= filters.period_to <= this_month
    assert "\x00" not in filters.value
    export = http.get(reverse("metrics_export"), query)
    assert export.status_code == 200
