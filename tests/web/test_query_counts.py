"""Every page's query count is constant in data size: the same with 10 and with 200 projects
(and their clients, journal, milestones, touchpoints, feedback and computed metrics)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from journey.views import BOARD_CARDS_PER_COLUMN
from metrics.services import metrics_recompute
from tests.web.conftest import grow

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def pages(world) -> list[tuple[str, str, str, dict]]:
    """(name, role, url, headers) of every page; htmx partials too."""
    client_id, project_id = world.pharma.pk, world.running.pk
    return [
        ("home", "pm", reverse("home"), {}),
        ("clients", "am", reverse("clients"), {}),
        (
            "clients filtered",
            "am",
            reverse("clients") + "?segment=big_pharma&q=a&modality=biologic",
            {},
        ),
        (
            "clients partial",
            "am",
            reverse("clients") + "?page=2",
            {**HX, "HTTP_HX_TARGET": "results"},
        ),
        ("client", "am", reverse("client_detail", args=[client_id]), {}),
        ("client edit", "am", reverse("client_edit", args=[client_id]), {}),
        ("client create", "am", reverse("client_create"), {}),
        ("contact create", "am", reverse("contact_create", args=[client_id]), {}),
        ("contact edit", "am", reverse("contact_edit", args=[world.contact.pk]), {}),
        ("projects", "am", reverse("projects"), {}),
        (
            "projects filtered",
            "am",
            reverse("projects") + "?status=open&segment=big_pharma&q=g",
            {},
        ),
        ("my projects", "pm", reverse("my_projects"), {}),
        ("board", "pm", reverse("board"), {}),
        ("board mine", "pm", reverse("board") + "?mine=1", {}),
        ("project", "pm", reverse("project_detail", args=[project_id]), {}),
        ("project create", "am", reverse("project_create"), {}),
        ("project edit", "am", reverse("project_edit", args=[project_id]), {}),
        ("dashboard", "exec", reverse("dashboard"), {}),
        ("dashboard slice", "exec", reverse("dashboard") + "?slice=segment:big_pharma", {}),
        (
            "dashboard partial",
            "exec",
            reverse("dashboard") + "?slice=project_manager:pm@alpha.example",
            {**HX, "HTTP_HX_TARGET": "dash-body"},
        ),
    ]


def measure(clients, world) -> dict[str, int]:
    counts = {}
    for name, role, url, headers in pages(world):
        http = clients[role]
        http.get(url, **headers)  # warm: the session's active organization, caches
        with CaptureQueriesContext(connection) as queries:
            response = http.get(url, **headers)
        assert response.status_code == 200, name
        counts[name] = len(queries)
    return counts


def test_query_counts_do_not_grow_with_data(world, django_assert_num_queries):
    from django.test import Client as HttpClient

    clients = {}
    for role in ("am", "pm", "exec"):
        clients[role] = HttpClient()
        clients[role].force_login(world.people[role].user)
    grow(world, 10)
    metrics_recompute(organization=world.org)
    small = measure(clients, world)
    print("queries per page:", small)  # shown with -s; the figures quoted in reviews

    grow(world, 200)
    metrics_recompute(organization=world.org)
    for name, role, url, headers in pages(world):
        with django_assert_num_queries(small[name]):
            response = clients[role].get(url, **headers)
        assert response.status_code == 200, name
    # A long column shows its first cards and says how many more there are.
    board = clients["am"].get(reverse("board")).content.decode()
    columns = dict((part.split('"', 1)[0], part) for part in board.split('data-phase="')[1:])
    for phase in ("assess", "initiate"):
        assert columns[phase].count('class="bcard"') == BOARD_CARDS_PER_COLUMN, phase
        assert re.search(r"\+ \d+ more</a>", columns[phase]), phase
    assert columns["execute"].count('class="bcard"') == 1 and "more</a>" not in columns["execute"]
    # Pages stay lean in absolute terms too; the client page and the dashboard add a client
    # health computation (a fixed dozen queries for the whole organization).
    assert max(small.values()) <= 30, small
