"""A page's work follows what it shows, not the organization: with ten times the clients (each
with its project, milestones, touchpoints, feedback, alerts and stored health), the
dashboard, the client page, the lists and their panels run the same queries and fetch the
same number of rows. Rows are counted per query (`SELECT count(*)` over each query the page
ran, with its parameters)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from engagement.services.alerts import alerts_run_rules
from engagement.services.health import health_snapshot_take
from metrics.services import metrics_recompute
from tests.factories import (
    ClientFactory,
    FeedbackFactory,
    MilestoneFactory,
    ProjectFactory,
    TouchpointFactory,
)
from tests.web.conftest import LAZY_PANEL

pytestmark = pytest.mark.django_db


class RowCounter:
    """Every SELECT a block runs, then how many rows each one returned."""

    def __init__(self):
        self.selects: list[tuple[str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT") and not many:
            self.selects.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    def rows(self) -> int:
        total = 0
        with connection.cursor() as cursor:
            for sql, params in self.selects:
                cursor.execute(f"SELECT COUNT(*) FROM ({sql}) counted", params)  # noqa: S608
                total += cursor.fetchone()[0]
        return total


def grow_clients(world, n: int, start: int = 0) -> None:
    """`n` more clients of the same shape: a project in execute with two milestones (one
    overdue), a touchpoint, a CSAT answer."""
    now = timezone.now()
    am, pm = world.people["am"].user, world.people["pm"].user
    for i in range(start, start + n):
        client = ClientFactory(
            organization=world.org, name=f"Grown {i:04d}", segment="biotech", account_manager=am
        )
        project = ProjectFactory(
            client=client,
            code=f"GROW-{i:04d}",
            project_manager=pm,
            opened_at=now - dt.timedelta(days=90),
        )
        MilestoneFactory(
            project=project, phase="assess", due_date=(now - dt.timedelta(days=5)).date()
        )
        MilestoneFactory(
            project=project,
            phase="assess",
            due_date=(now - dt.timedelta(days=40)).date(),
            completed_at=now - dt.timedelta(days=41),
        )
        TouchpointFactory(client=client, project=project, at=now - dt.timedelta(days=3))
        FeedbackFactory(
            project=project,
            phase="assess",
            kind="csat",
            score=4,
            responded_at=now - dt.timedelta(days=2),
        )


def cost(http, url: str) -> tuple[int, int]:
    counter = RowCounter()
    with connection.execute_wrapper(counter):
        response = http.get(url)
        assert response.status_code == 200, url
        for match in LAZY_PANEL.finditer(response.content.decode()):
            assert http.get(match["url"], HTTP_HX_REQUEST="true").status_code == 200
    return len(counter.selects), counter.rows()


def test_pages_fetch_the_same_rows_with_ten_times_the_clients(world, login):
    pages = [
        reverse("dashboard"),
        reverse("home"),
        reverse("clients"),
        reverse("client_detail", args=[world.pharma.pk]),
        reverse("projects"),
        reverse("board"),
        reverse("alerts") + "?who=all",
        "/api/v1/client-health/",
        "/api/v1/clients/",
        "/api/v1/projects/",
        "/api/v1/alerts/",
    ]

    def measure(n_more: int, start: int) -> dict[str, tuple[int, int]]:
        grow_clients(world, n_more, start)
        alerts_run_rules(organization=world.org)
        health_snapshot_take(organization=world.org)
        metrics_recompute(organization=world.org)
        http = login(world.people["admin"])
        http.get(reverse("home"))  # the session remembers the organization
        return {url: cost(http, url) for url in pages}

    small = measure(60, 0)  # every list (API: 50 a page) and board column (40) is full
    large = measure(540, 60)  # ten times the clients
    assert large == small
