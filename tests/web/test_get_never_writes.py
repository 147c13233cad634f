"""A GET never writes: every page, panel and API list of the browser app and the API runs
only reads (no INSERT, UPDATE or DELETE), for every role. Who may do what is decided by
`accounts.permissions` and the services, so a GET has nothing to decide."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagement.models import Playbook
from tests.web.conftest import add_engagement, with_panels

pytestmark = pytest.mark.django_db
WRITES = ("INSERT", "UPDATE", "DELETE")


def urls(w) -> list[str]:
    return [
        reverse("home"),
        reverse("clients"),
        reverse("client_detail", args=[w.pharma.pk]),
        reverse("projects"),
        reverse("my_projects"),
        reverse("project_detail", args=[w.running.pk]),
        reverse("board"),
        reverse("alerts"),
        reverse("alerts") + "?who=all&state=resolved",
        reverse("dashboard"),
        reverse("engagement_settings"),
        reverse("accounts:audit_log"),
        "/api/v1/clients/",
        "/api/v1/projects/",
        f"/api/v1/projects/{w.running.pk}/timeline/",
        f"/api/v1/projects/{w.running.pk}/pm-suggestions/",
        "/api/v1/alerts/",
        "/api/v1/playbooks/",
        "/api/v1/client-health/",
        "/api/v1/feedback-requests/",
        "/api/v1/metrics/",
    ]


@pytest.mark.parametrize("role", ["admin", "exec", "am", "pm", "viewer"])
def test_no_get_writes(world, login, role):
    add_engagement(world)
    http = login(world.people[role])
    # The first request after logging in remembers the active organization in the session
    # (`ActiveOrganizationMiddleware`): a login's bookkeeping, not data.
    http.get(reverse("home"))
    for url in urls(world):
        with CaptureQueriesContext(connection) as queries:
            response = http.get(url)
            html = response.content.decode()
            if response.status_code == 200 and "<html" in html:
                with_panels(http, html)
        assert response.status_code in (200, 403), (url, response.status_code)
        writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
        assert writes == [], (url, writes)


def test_settings_page_offers_missing_playbooks_and_creates_them_only_on_post(world, login):
    Playbook.objects.for_organization(world.org).delete()  # an organization from before them
    http = login(world.people["admin"])
    html = http.get(reverse("engagement_settings")).content.decode()
    assert 'data-testid="missing-playbooks"' in html and "Transactional, Consultative" in html
    assert not Playbook.objects.for_organization(world.org).exists()
    response = http.post(reverse("playbooks_create"), follow=True)
    assert "Default playbooks created." in response.content.decode()
    assert Playbook.objects.for_organization(world.org).count() == 2
    viewer = login(world.people["am"])
    assert viewer.post(reverse("playbooks_create")).status_code == 403
