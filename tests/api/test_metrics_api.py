"""GET /api/v1/metrics/ and POST /api/v1/metrics/recompute/ (SPEC, REST API contract)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from journey.services import project_transition
from metrics.models import MetricResult, MetricRun
from tests.factories import ClientFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def figure(org, key="win_rate", dimension="overall", dimension_value="all", period="2026-01", **kw):
    defaults = {"value": 0.5, "numerator": 1, "denominator": 2, "n": 2}
    return MetricResult.objects.create(
        organization=org,
        key=key,
        dimension=dimension,
        dimension_value=dimension_value,
        period=period,
        computed_at=timezone.now(),
        **{**defaults, **kw},
    )


@pytest.fixture
def api(org, key_client):
    return key_client(org, "write")


def test_rows_have_the_spec_shape(org, api):
    figure(org, period="2026-03", numerator=3, denominator=4, n=4, value=0.75)
    body = api.get("/api/v1/metrics/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    (row,) = body["results"]
    assert set(row) >= {
        "key", "dimension", "dimension_value", "period", "value", "numerator", "denominator",
        "n", "computed_at",
    }  # fmt: skip
    assert row["period"] == "2026-03"
    assert row["value"] == 0.75 and isinstance(row["value"], float)
    assert (row["numerator"], row["denominator"], row["n"]) == (3, 4, 4)


def test_filters(org, api):
    figure(org, period="2025-12")
    figure(org, period="2026-01")
    figure(org, period="2026-02")
    figure(org, key="csat_avg", period="2026-01")
    figure(org, dimension="segment", dimension_value="biotech", period="2026-01")
    figure(org, dimension="segment", dimension_value="big_pharma", period="2026-01")

    def periods(**params):
        rows = api.get("/api/v1/metrics/", params).json()["results"]
        return [(r["key"], r["dimension_value"], r["period"]) for r in rows]

    assert periods(key="win_rate", dimension="overall", **{"from": "2026-01"}) == [
        ("win_rate", "all", "2026-01"),
        ("win_rate", "all", "2026-02"),
    ]
    assert periods(key="win_rate", dimension="overall", to="2025-12") == [
        ("win_rate", "all", "2025-12")
    ]
    assert periods(dimension="segment", dimension_value="biotech") == [
        ("win_rate", "biotech", "2026-01")
    ]
    assert periods(key="csat_avg") == [("csat_avg", "all", "2026-01")]
    assert periods(**{"from": "2027-01"}) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13"}, "from"),
        ({"to": "January"}, "to"),
        ({"from": "2026-1"}, "from"),
        ({"key": "revenue"}, "key"),
        ({"dimension": "planet"}, "dimension"),
    ],
)
def test_bad_filters_are_400_on_the_field(org, api, params, field):
    response = api.get("/api/v1/metrics/", params)
    assert response.status_code == 400
    assert set(response.json()) == {field}


def test_paginated(org, api):
    for month in range(1, 13):
        figure(org, period=f"2025-{month:02d}")
    first = api.get("/api/v1/metrics/", {"page_size": 5}).json()
    assert first["count"] == 12 and len(first["results"]) == 5 and first["next"]
    third = api.get("/api/v1/metrics/", {"page_size": 5, "page": 3}).json()
    assert [r["period"] for r in third["results"]] == ["2025-11", "2025-12"]


def test_list_query_count_is_constant_in_rows(org, api):
    api.get("/api/v1/metrics/")  # warm-up (key last_used_at)
    figure(org, period="2020-01")
    with CaptureQueriesContext(connection) as few:
        api.get("/api/v1/metrics/", {"page_size": 200})
    for i in range(150):
        figure(
            org,
            period=f"{2010 + i // 12}-{i % 12 + 1:02d}",
            dimension="modality",
            dimension_value="adc",
        )
    with CaptureQueriesContext(connection) as many:
        response = api.get("/api/v1/metrics/", {"page_size": 200})
    assert response.json()["count"] == 151
    assert len(many.captured_queries) == len(few.captured_queries)


def test_recompute_answers_202_with_a_task_to_follow(org, api, django_capture_on_commit_callbacks):
    client = ClientFactory(organization=org)
    project = ProjectFactory(client=client, opened_at=timezone.now() - dt.timedelta(days=20))
    from accounts.permissions import Actor

    project_transition(actor=Actor.system(org), project_id=project.pk, to="initiate")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/metrics/recompute/")
    assert response.status_code == 202
    body = response.json()
    run = MetricRun.objects.for_organization(org).get(pk=body["run"]["id"])
    assert body["task_id"] == run.task_id != ""
    assert body["status_url"].endswith(f"/api/v1/metric-runs/{run.pk}/")
    status = api.get(body["status_url"]).json()
    assert status["status"] == "succeeded"  # eager in tests
    assert status["rows_written"] == MetricResult.objects.for_organization(org).count() > 0
    rows = api.get("/api/v1/metrics/", {"key": "win_rate", "dimension": "overall"}).json()
    assert [r["value"] for r in rows["results"]] == [1.0]


def test_recompute_refused_for_read_keys_and_viewers(org, key_client, session_client):
    assert key_client(org, "read").post("/api/v1/metrics/recompute/").status_code == 403
    viewer = MembershipFactory(organization=org, role=Role.VIEWER).user
    response = session_client(viewer).post("/api/v1/metrics/recompute/")
    assert response.status_code == 403
    assert not MetricRun.objects.for_organization(org).exists()


def test_another_organizations_figures_and_runs_are_invisible(org, other_org, api):
    figure(other_org, period="2026-01")
    theirs = MetricRun.objects.create(organization=other_org, trigger="request")
    assert api.get("/api/v1/metrics/").json()["count"] == 0
    assert api.get("/api/v1/metric-runs/").json()["count"] == 0
    assert api.get(f"/api/v1/metric-runs/{theirs.pk}/").status_code == 404
    api.post("/api/v1/metrics/recompute/")
    assert MetricResult.objects.for_organization(other_org).count() == 1


def test_unauthenticated_is_401(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/metrics/")
    assert response.status_code == 401
    assert response.has_header("WWW-Authenticate")
