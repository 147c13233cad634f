"""`GET /api/v1/<resource>/?format=csv` on every list of the OpenAPI schema: the JSON list's
columns and rows (all pages), the formula guard, the same filters, only the caller's
organization, streamed in batches, and only for those who may export.

The lists are read from the schema (as the isolation matrix does), so a new list endpoint
that does not answer CSV fails `test_every_list_answers_csv`."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tenancy import organization_scope
from accounts.web import csv_cell
from engagement.models import Alert, Playbook
from journey.models import (
    Client,
    Contact,
    Feedback,
    Milestone,
    PhaseTransition,
    Project,
    Touchpoint,
)
from metrics.models import MetricResult, MetricRun
from tests.api.test_isolation_matrix import PREFIX, SCHEMA, client_for
from tests.api.world import PRINCIPALS, build_side
from tests.factories import ClientFactory, ProjectFactory
from tests.rls.conftest import rls_enforced

pytestmark = pytest.mark.django_db


def component(ref: str) -> dict:
    return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def item_schema(operation: dict) -> dict | None:
    """The schema of one item of a GET that answers a list (paginated or not), else None."""
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    if schema.get("type") == "array":
        return component(schema["items"]["$ref"])
    if "/Paginated" in schema.get("$ref", ""):
        return component(component(schema["$ref"])["properties"]["results"]["items"]["$ref"])
    return None


def is_list(operation: dict) -> bool:
    return item_schema(operation) is not None


def fields_of(path: str) -> list[str]:
    """The JSON fields of the list's items, as the schema documents them."""
    return list(item_schema(SCHEMA["paths"][path]["get"])["properties"])


LISTS = sorted(
    path for path, item in SCHEMA["paths"].items() if "get" in item and is_list(item["get"])
)


@pytest.fixture
def world(db):
    return build_side("Own CDMO"), build_side("Other CDMO")


@pytest.fixture
def requires_rls(db):
    if not rls_enforced():
        pytest.skip("needs PostgreSQL as an app role without BYPASSRLS (see tests/rls)")


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def resource_of(path: str) -> str:
    return path.removeprefix(PREFIX).strip("/").split("/")[0]


def url_of(path: str, side) -> str:
    if "{id}" not in path:
        return path
    resource = resource_of(path)
    assert resource in side.objects, f"add one {resource} to build_side (tests/api/world.py)"
    return path.replace("{id}", str(side.objects[resource].pk))


def json_rows(client, url, params=None) -> list[dict]:
    body = client.get(url, {"page_size": 200, **(params or {})}).json()
    return body["results"] if isinstance(body, dict) else body


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def export(client, url, params=None):
    return client.get(url, {**(params or {}), "format": "csv"})


@pytest.fixture
def formulas(world):
    """Every list has a text cell that starts like a formula, in both organizations."""
    own, other = world
    for side in (own, other):
        o = side.objects
        Client.objects.filter(organization=side.org, pk=o["clients"].pk).update(
            name="=HYPERLINK(1)", notes="+1+1"
        )
        Contact.objects.filter(organization=side.org, pk=o["contacts"].pk).update(
            name="@SUM(A1)", title="-2+3"
        )
        Project.objects.filter(organization=side.org, pk=o["projects"].pk).update(
            name="-cmd", description="\tTabbed"
        )
        Milestone.objects.filter(organization=side.org, pk=o["milestones"].pk).update(
            title="\rCarriage"
        )
        Touchpoint.objects.filter(organization=side.org, pk=o["touchpoints"].pk).update(
            summary="=1+2"
        )
        Feedback.objects.filter(organization=side.org, pk=o["feedback"].pk).update(
            comment="@feedback"
        )
        Feedback.objects.filter(organization=side.org, pk=o["feedback-requests"].pk).update(
            comment="+request"
        )
        Alert.objects.filter(organization=side.org, pk=o["alerts"].pk).update(
            title="=alert", message="-message"
        )
        Playbook.objects.filter(organization=side.org, pk=o["playbooks"].pk).update(
            notes="@playbook"
        )
        PhaseTransition.objects.filter(organization=side.org, project=o["projects"]).update(
            note="=journal"
        )
        MetricRun.objects.filter(organization=side.org, pk=o["metric-runs"].pk).update(
            error="=error"
        )
        MetricResult.objects.filter(organization=side.org, pk=o["metrics"].pk).update(
            key="=win_rate"
        )
        hook = o["webhooks"]
        type(hook).objects.filter(organization=side.org, pk=hook.pk).update(description="-hook")
        pm = side.users[Role.PROJECT_MANAGER]
        type(pm).objects.filter(pk=pm.pk).update(full_name="+Pat Manager")
    return world


def test_the_lists_come_from_the_schema():
    assert len(LISTS) >= 13
    assert {"/api/v1/clients/", "/api/v1/client-health/"} <= set(LISTS)
    assert {"/api/v1/projects/{id}/pm-suggestions/", "/api/v1/projects/{id}/timeline/"} <= set(
        LISTS
    )
    for path in LISTS:
        operation = SCHEMA["paths"][path]["get"]
        assert "format" in {p["name"] for p in operation["parameters"]}, path
        assert "text/csv" in operation["responses"]["200"]["content"], path


@pytest.mark.parametrize("path", LISTS)
def test_every_list_answers_csv(formulas, path):
    """Header = the JSON fields, one row per JSON row (all pages), each cell the JSON value
    through the formula guard; the other organization's rows never appear."""
    own, other = formulas
    admin = client_for(f"role:{Role.ADMIN}", own)
    url = url_of(path, own)
    expected = json_rows(admin, url)
    response = export(admin, url)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    name = url.removeprefix(PREFIX).strip("/").replace("/", "-")
    assert re.fullmatch(
        rf'attachment; filename="{name}-{own.org.slug}-{timezone.now().date()}\.csv"',
        response["Content-Disposition"],
    )
    rows = csv_rows(response)
    assert rows[0] == fields_of(path)
    assert all(list(row) == rows[0] for row in expected)
    assert len(rows) - 1 == len(expected)
    assert rows[1:] == [[csv_cell(value) for value in row.values()] for row in expected]
    cells = [cell for row in rows[1:] for cell in row]
    # The planted formulas are there, neutralized; no text cell starts like a formula.
    assert not expected or any(cell.startswith("'") and cell[1:2] in FORMULA for cell in cells), (
        rows
    )
    for row in expected:
        for value in row.values():
            if isinstance(value, str) and value.startswith(FORMULA):
                assert "'" + value in cells
    assert not [c for c in cells if c.startswith(FORMULA) and not re.fullmatch(r"-[0-9.e+-]+", c)]
    # Another organization's rows: never.
    if "id" in rows[0] and "{id}" not in path:
        resource = resource_of(path)
        assert resource in other.objects, f"add one {resource} to build_side (tests/api/world.py)"
        model = type(other.objects[resource])
        with organization_scope(other.org):
            theirs = set(model.objects.for_organization(other.org).values_list("pk", flat=True))
        assert theirs and not {int(r[0]) for r in rows[1:]} & theirs
    elif resource_of(path) == "metrics":  # figures have no id: each side's carries a marker
        assert other.objects["metrics"].dimension_value not in cells
        assert own.objects["metrics"].dimension_value in cells


def test_another_organizations_project_is_a_404(world):
    own, other = world
    admin = client_for(f"role:{Role.ADMIN}", own)
    response = export(admin, f"{PREFIX}projects/{other.objects['projects'].pk}/pm-suggestions/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_accept_header_asks_for_csv_too(world):
    own, _ = world
    admin = client_for("key:read", own)
    response = admin.get(f"{PREFIX}clients/", HTTP_ACCEPT="text/csv")
    assert csv_rows(response)[0][:2] == ["id", "name"]
    # A detail has no CSV: the format is unknown there, as any other would be.
    detail = admin.get(f"{PREFIX}clients/{own.objects['clients'].pk}/", {"format": "csv"})
    assert detail.status_code == 404


def test_no_pages_the_whole_filtered_list(world):
    own, other = world
    ClientFactory.create_batch(7, organization=own.org, segment="biotech")
    ClientFactory.create_batch(3, organization=own.org, segment="big_pharma")
    ClientFactory.create_batch(4, organization=other.org, segment="biotech")
    key = client_for("key:read", own)
    params = {"segment": "biotech", "page_size": 2, "ordering": "-created_at"}
    everything = json_rows(
        key, f"{PREFIX}clients/", {"segment": "biotech", "ordering": "-created_at"}
    )
    rows = csv_rows(export(key, f"{PREFIX}clients/", params))
    assert [int(r[0]) for r in rows[1:]] == [r["id"] for r in everything]
    assert len(rows) - 1 == Client.objects.filter(organization=own.org, segment="biotech").count()
    assert {r[rows[0].index("segment")] for r in rows[1:]} == {"biotech"}


@pytest.mark.parametrize(
    ("path", "params", "column", "allowed"),
    [
        ("projects/", {"status": "active"}, "status", {"active"}),
        ("alerts/", {"state": "open"}, "state", {"open"}),
        ("metrics/", {"key": "win_rate"}, "key", {"win_rate"}),
        ("metric-runs/", {"status": "queued"}, "status", {"queued"}),
        ("client-health/", {"at_risk": "false"}, "at_risk", {"false"}),
        ("feedback/", {"project": "999999"}, "id", set()),
    ],
)
def test_filters_apply(world, path, params, column, allowed):
    own, _ = world
    admin = client_for(f"role:{Role.EXECUTIVE}", own)
    rows = csv_rows(export(admin, PREFIX + path, params))
    expected = json_rows(admin, PREFIX + path, params)
    assert len(rows) - 1 == len(expected)
    assert {r[rows[0].index(column)] for r in rows[1:]} <= allowed


def test_a_bad_filter_is_a_400_in_json(world):
    own, _ = world
    response = export(client_for("key:read", own), f"{PREFIX}client-health/", {"at_risk": "maybe"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"at_risk": ["Give true or false."]}


MAY_EXPORT = {f"role:{Role.ADMIN}", f"role:{Role.EXECUTIVE}"} | {
    p for p in PRINCIPALS if p.startswith("key:")
}


@pytest.mark.parametrize("who", PRINCIPALS)
def test_only_those_who_may_export(world, who):
    own, _ = world
    response = export(client_for(who, own), f"{PREFIX}projects/")
    if who in MAY_EXPORT:
        assert csv_rows(response)[1:]
    else:
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Your role does not allow this action."}
        assert client_for(who, own).get(f"{PREFIX}projects/").status_code == 200  # JSON: yes


def test_queries_grow_with_batches_not_rows(world, monkeypatch):
    """The export reads in batches: 5 or 45 more projects cost the same queries."""
    own, _ = world
    key = client_for("key:read", own)
    project = own.objects["projects"]

    def count_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            rows = csv_rows(export(key, f"{PREFIX}projects/"))
        return len(queries), len(rows) - 1

    ProjectFactory.create_batch(5, client=project.client)
    count_queries()  # the key's first use is recorded once
    few, n_few = count_queries()
    ProjectFactory.create_batch(40, client=project.client)
    many, n_many = count_queries()
    assert (n_few, n_many) == (6, 46)
    assert few == many

    # Small batches: every row still comes, in the JSON list's order.
    monkeypatch.setattr("accounts.api.csv_export.CsvListMixin.csv_batch_size", 7)
    rows = csv_rows(export(key, f"{PREFIX}projects/", {"ordering": "code"}))
    assert [r[0] for r in rows[1:]] == [
        str(r["id"]) for r in json_rows(key, f"{PREFIX}projects/", {"ordering": "code"})
    ]


@pytest.mark.django_db(transaction=True)
def test_streams_outside_a_transaction_with_a_key(world):
    """As in production: no test transaction around the request, the rows read while the
    response is sent (on PostgreSQL: a server-side cursor under row-level security, the scope
    coming from the API key)."""
    own, other = world
    rows = csv_rows(export(client_for("key:read", own), f"{PREFIX}touchpoints/"))
    with organization_scope(own.org):
        ids = set(Touchpoint.objects.for_organization(own.org).values_list("pk", flat=True))
    assert {int(r[0]) for r in rows[1:]} == ids
    assert other.objects["touchpoints"].pk not in ids


def test_by_row_level_security_alone(requires_rls, world, settings):
    """On PostgreSQL with the application's filter off: the database alone keeps the other
    organization's rows out of every export, and the caller's rows are all there (read
    while the response streams, in the scope of the session or of the API key)."""
    settings.TENANCY_APP_FILTER = False
    own, other = world
    key = APIClient()
    key.credentials(HTTP_AUTHORIZATION=f"Bearer {own.keys['read']}")
    admin = client_for(f"role:{Role.ADMIN}", own)
    for path in LISTS:
        for client in (admin, key):
            response = export(client, url_of(path, own))
            if client is key and response.status_code == 403:
                continue  # a list a read key may not see (webhooks)
            rows = csv_rows(response)
            with organization_scope(own.org):
                expected = json_rows(admin, url_of(path, own))
            assert len(rows) - 1 == len(expected), path
            if "id" in rows[0] and "{id}" not in path and resource_of(path) in other.objects:
                model = type(other.objects[resource_of(path)])
                with organization_scope(other.org):
                    theirs = set(
                        model.objects.for_organization(other.org).values_list("pk", flat=True)
                    )
                assert not {int(r[0]) for r in rows[1:]} & theirs, path
