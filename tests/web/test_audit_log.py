"""The organization's audit log (admins and executives): who changed what, before and
after, and why; filters, pagination, CSV (formula cells neutralized); another
organization's events never show; bad filters are a message, not a 500."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from journey.services import client_create, client_update, project_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed(world, elsewhere):
    client_update(actor=world.people["am"], client_id=world.pharma.pk, notes="=HYPERLINK(1)")
    project_transition(
        actor=world.people["admin"],
        project_id=world.running.pk,
        to="plan",
        reason="Moved back: the PO was not signed",
    )
    client_update(actor=elsewhere.people["am"], client_id=elsewhere.pharma.pk, notes="theirs")
    client_create(actor=world.people["am"], name="=SUM(A1)", segment="biotech")
    return world


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("exec", 200), ("am", 403), ("pm", 403), ("viewer", 403)],
)
def test_audit_log_is_for_admins_and_executives(changed, login, role, status):
    response = login(changed.people[role]).get(reverse("accounts:audit_log"))
    assert response.status_code == status
    nav = login(changed.people[role]).get(reverse("home")).content.decode()
    assert ('data-nav="audit"' in nav) == (status == 200)


def test_audit_log_shows_changes_with_before_after_and_reason(changed, login):
    http = login(changed.people["admin"])
    html = http.get(reverse("accounts:audit_log")).content.decode()
    assert "am@alpha.example" in html and "=HYPERLINK(1)" in html
    assert "Moved back: the PO was not signed" in html
    assert "theirs" not in html  # another organization's change
    only = http.get(
        reverse("accounts:audit_log"), {"person": "am@alpha", "object_type": "journey.client"}
    ).content.decode()
    assert "=HYPERLINK(1)" in only and "Moved back" not in only
    bad = http.get(reverse("accounts:audit_log"), {"day_from": "yesterday", "person": "\x00"})
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()
    partial = http.get(
        reverse("accounts:audit_log"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    assert b"<html" not in partial.content and b'data-testid="audit-table"' in partial.content


def test_audit_log_exports_csv_without_formulas(changed, login):
    response = login(changed.people["exec"]).get(
        reverse("accounts:audit_log"), {"format": "csv", "object_type": "journey.client"}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["at", "actor", "action"]
    body = "\n".join(",".join(r) for r in rows[1:])
    # A client named like a formula: its name cell is neutralized with a leading quote.
    assert "'=SUM(A1)" in [row[5] for row in rows[1:]]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)
    assert "theirs" not in body
