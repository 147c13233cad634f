"""Every list page exports its current filter as CSV (all pages, streamed): clients,
projects, my projects, alerts, members, API keys, the audit log and the dashboard's figures.
The link is there only for roles that may export (admins, executives); anyone else gets a
403. Formula-like cells are neutralized; another organization's rows never appear."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import Actor
from accounts.services import api_key_create
from engagement.models import Alert
from engagement.services.alerts import alerts_for_low_score
from journey.api.serializers import ClientOut, ProjectOut
from journey.models import Client, Project
from metrics.models import MetricResult
from tests.factories import ClientFactory, FeedbackFactory

pytestmark = pytest.mark.django_db

FORMULAS = ["=SUM(A1)", "+cmd", "-2+3", "@HYPERLINK", "\tTabbed", "\rReturned"]


def read(response) -> list[list[str]]:
    assert response.status_code == 200, response
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture
def alerted(world, elsewhere):
    """An alert in each organization, the world's titled like a formula."""
    for side in (world, elsewhere):
        low = FeedbackFactory(project=side.running, organization=side.org, phase="plan", score=1)
        alert = alerts_for_low_score(feedback=low)[0]
        Alert.objects.filter(organization=side.org, pk=alert.pk).update(
            title="=alert" if side is world else "theirs", assignee=None
        )
    api_key_create(actor=Actor.system(world.org), name="=key", scope="read")
    api_key_create(actor=Actor.system(elsewhere.org), name="their key", scope="read")
    return world


# (url name, file's resource, what the page lists in the organization)
PAGES = [
    ("clients", "clients", lambda w: Client.objects.for_organization(w.org).count()),
    ("projects", "projects", lambda w: Project.objects.for_organization(w.org).count()),
    ("alerts", "alerts", lambda w: 1),
    ("accounts:members", "members", lambda w: 6),
    ("accounts:api_keys", "api-keys", lambda w: 1),
]


@pytest.mark.parametrize(("name", "resource", "count"), PAGES)
def test_every_list_page_exports_all_of_its_rows(alerted, elsewhere, login, name, resource, count):
    world = alerted
    http = login(world.people["admin"])
    page = http.get(reverse(name), {"who": "all"})
    html = page.content.decode()
    assert 'data-testid="export-csv"' in html and "format=csv" in html
    response = http.get(reverse(name), {"who": "all", "format": "csv", "page": 1})
    assert response["Content-Disposition"] == (
        f'attachment; filename="{resource}-alpha-{timezone.now().date()}.csv"'
    )
    rows = read(response)
    assert len(rows) - 1 == count(world) == page.context["page"].paginator.count
    body = "\n".join(",".join(r) for r in rows)
    assert "theirs" not in body and "their key" not in body and "Beta" not in body
    assert "beta.example" not in body


def test_api_columns_for_resources_the_api_lists(world, login):
    http = login(world.people["exec"])
    clients = read(http.get(reverse("clients"), {"format": "csv"}))
    assert clients[0] == list(ClientOut().fields)
    projects = read(http.get(reverse("projects"), {"format": "csv"}))
    assert projects[0] == list(ProjectOut().fields)
    members = read(login(world.people["admin"]).get(reverse("accounts:members"), {"format": "csv"}))
    assert members[0] == ["name", "email", "role", "joined"]


def test_the_current_filter_all_pages(world, elsewhere, login):
    ClientFactory.create_batch(30, organization=world.org, segment="biotech")
    ClientFactory.create_batch(3, organization=elsewhere.org, segment="biotech")
    http = login(world.people["admin"])
    page = http.get(reverse("clients"), {"segment": "biotech"})
    assert page.context["page"].paginator.num_pages == 2
    link = 'href="?segment=biotech&amp;format=csv"'
    assert link in page.content.decode()
    # The htmx results (a filter changed) carry the link of the new filter.
    partial = http.get(
        reverse("clients"),
        {"segment": "big_pharma"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )
    assert 'href="?segment=big_pharma&amp;format=csv"' in partial.content.decode()
    rows = read(http.get(reverse("clients"), {"segment": "biotech", "format": "csv", "page": 2}))
    expected = Client.objects.for_organization(world.org).filter(segment="biotech").count()
    assert len(rows) - 1 == expected == page.context["page"].paginator.count == 31
    assert {r[rows[0].index("segment")] for r in rows[1:]} == {"biotech"}


def test_my_projects_exports_the_projects_i_manage(world, login):
    mine = Project.objects.for_organization(world.org).filter(
        project_manager=world.people["pm"].user
    )
    mine.update(project_manager=world.people["exec"].user)
    http = login(world.people["exec"])
    page = http.get(reverse("my_projects"))
    assert 'data-testid="export-csv"' in page.content.decode()
    rows = read(http.get(reverse("my_projects"), {"format": "csv"}))
    assert len(rows) - 1 == page.context["page"].paginator.count >= 1
    manager = rows[0].index("project_manager")
    assert {r[manager] for r in rows[1:]} == {world.people["exec"].user.email}
    assert (
        "my-projects-alpha-"
        in http.get(reverse("my_projects"), {"format": "csv"})["Content-Disposition"]
    )


def test_formula_cells_are_neutralized(world, login):
    for formula in FORMULAS:
        ClientFactory(organization=world.org, name=formula, notes=formula)
    rows = read(login(world.people["admin"]).get(reverse("clients"), {"format": "csv"}))
    names = [r[rows[0].index("name")] for r in rows[1:]]
    notes = [r[rows[0].index("notes")] for r in rows[1:]]
    for formula in FORMULAS:
        assert "'" + formula in names and "'" + formula in notes
    assert not [c for r in rows[1:] for c in r if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


@pytest.mark.parametrize("role", ["am", "pm", "viewer"])
@pytest.mark.parametrize("name", ["clients", "projects", "my_projects", "alerts"])
def test_no_link_and_403_without_the_export_permission(world, login, role, name):
    http = login(world.people[role])
    page = http.get(reverse(name), {"who": "all", "state": "resolved"})
    assert page.status_code == 200
    assert 'data-testid="export-csv"' not in page.content.decode()
    response = http.get(reverse(name), {"format": "csv"})
    assert response.status_code == 403
    assert not response.streaming


def test_audit_log_export_needs_the_export_permission_too(world, login):
    html = login(world.people["exec"]).get(reverse("accounts:audit_log")).content.decode()
    assert 'data-testid="audit-export"' in html
    response = login(world.people["exec"]).get(reverse("accounts:audit_log"), {"format": "csv"})
    assert read(response)[0][:3] == ["at", "actor", "action"]
    assert f"audit-log-alpha-{timezone.now().date()}.csv" in response["Content-Disposition"]


def test_queries_do_not_grow_with_rows(world, login):
    http = login(world.people["admin"])
    http.get(reverse("clients"))  # the session's first request settles its own writes

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            read(http.get(reverse("clients"), {"format": "csv"}))
        return len(captured)

    few = queries()
    ClientFactory.create_batch(40, organization=world.org, account_manager=world.people["am"].user)
    assert queries() == few


def test_dashboard_export_neutralizes_formulas(world, login):
    this = timezone.now().strftime("%Y-%m")
    for n, formula in enumerate(FORMULAS):
        MetricResult.objects.create(
            organization=world.org,
            key="win_rate",
            dimension="segment",
            dimension_value=formula,
            period=this,
            value=-0.5 if n == 0 else 0.5,
            n=2,
            computed_at=timezone.now(),
        )
    response = login(world.people["exec"]).get(
        reverse("metrics_export"), {"slice": "segment:biotech"}
    )
    # The biotech slice has none of them; the whole segment dimension has them all.
    assert len(read(response)) == 1
    for formula in FORMULAS[:4]:  # a slice's value is stripped of tabs and line breaks
        rows = read(
            login(world.people["exec"]).get(
                reverse("metrics_export"), {"slice": f"segment:{formula}"}
            )
        )
        assert [r[2] for r in rows[1:]] == ["'" + formula]
    rows = read(
        login(world.people["exec"]).get(reverse("metrics_export"), {"slice": "segment:=SUM(A1)"})
    )
    assert rows[1][4] == "-0.5"  # a number is no formula: written as is
