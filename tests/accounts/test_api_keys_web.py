"""API keys in the browser (admins): list with last use, create (the key shown once, never
stored, never cached), revoke with a confirmation; a revoked key is refused by the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, AuditEvent, Role
from accounts.services import api_key_create

pytestmark = pytest.mark.django_db
KEYS = reverse("accounts:api_keys")
NEW = reverse("accounts:api_key_new")
WRITES = ("INSERT", "UPDATE", "DELETE")


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def http(client, admin):
    client.force_login(admin.user)
    return client


def create(http, **data):
    payload = {"name": "ERP sync", "scope": "read", "expires_at": ""} | data
    return http.post(NEW, payload)


def raw_key_of(response) -> str:
    found = re.search(r'value="(cdmo_[^"]+)"[^>]*data-testid="raw-key"', response.content.decode())
    assert found, response.content.decode()[:500]
    return found.group(1)


def test_create_in_the_browser_use_it_then_revoke_it_in_the_browser(http, admin, org):
    created = create(http, name="ERP sync", scope="write")
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    html = created.content.decode()
    assert "it will not be shown again" in html
    raw = raw_key_of(created)
    key = ApiKey.objects.for_organization(org).get()
    assert (key.name, key.scope, key.created_by) == ("ERP sync", "write", admin.user)
    assert raw.startswith(f"cdmo_{org.public_id}_{key.prefix}_") and raw not in key.key_hash
    assert raw not in created.get("Location", "")

    # The key works; the list shows it (with its last use) but never the key itself.
    assert bearer(raw).get("/api/v1/clients/").status_code == 200
    listing = http.get(KEYS).content.decode()
    assert "ERP sync" in listing and raw not in listing and key.prefix in raw
    assert "never" not in listing.split(f'data-key="{key.pk}"')[1].split("</tr>")[0]

    confirm = http.get(reverse("accounts:api_key_revoke", args=[key.pk]))
    assert confirm.status_code == 200 and "Revoke the key" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None  # the confirmation page changes nothing
    done = http.post(reverse("accounts:api_key_revoke", args=[key.pk]))
    assert done.status_code == 302 and done.url == KEYS
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert bearer(raw).get("/api/v1/clients/").status_code == 401
    listing = http.get(KEYS).content.decode()
    assert "Revoked" in listing and raw not in listing
    events = AuditEvent.objects.for_organization(org).filter(
        object_type="accounts.apikey", object_id=key.pk
    )
    assert sorted(events.values_list("action", flat=True)) == ["create", "update"]


def test_expiry_date_rules(http, org):
    today = timezone.localdate()
    past = create(http, name="Past", expires_at=(today - dt.timedelta(days=1)).isoformat())
    assert past.status_code == 200 and 'data-error-for="expires_at"' in past.content.decode()
    assert "The expiry must be in the future." in past.content.decode()
    far = create(http, name="Far", expires_at=today.replace(year=today.year + 11).isoformat())
    assert "at most 10 years ahead" in far.content.decode()
    end = create(http, name="End", expires_at="9999-12-31")
    assert end.status_code == 200 and "at most 10 years ahead" in end.content.decode()
    junk = create(http, name="Junk", expires_at="next tuesday")
    assert 'data-error-for="expires_at"' in junk.content.decode()
    assert not ApiKey.objects.for_organization(org).exists()

    ok = create(http, name="Today", expires_at=today.isoformat())
    assert ok.status_code == 200 and ok["Cache-Control"] == "no-store"
    key = ApiKey.objects.for_organization(org).get()
    assert key.expires_at > timezone.now()
    assert bearer(raw_key_of(ok)).get("/api/v1/clients/").status_code == 200
    ten = create(http, name="Ten", expires_at=today.replace(year=today.year + 10).isoformat())
    assert ten["Cache-Control"] == "no-store"


def test_bad_names_are_form_errors(http, org):
    create(http, name="Dup")
    dup = create(http, name="dup")
    assert "An API key with this name already exists." in dup.content.decode()
    empty = create(http, name="  ")
    assert 'data-error-for="name"' in empty.content.decode()
    newline = create(http, name="a\nb")
    assert 'data-error-for="name"' in newline.content.decode()
    scope = create(http, name="S", scope="owner")
    assert 'data-error-for="scope"' in scope.content.decode()
    assert ApiKey.objects.for_organization(org).count() == 1


def test_the_key_is_shown_once(http, org):
    raw = raw_key_of(create(http))
    for url in (
        KEYS,
        reverse("accounts:api_key_revoke", args=[ApiKey.objects.for_organization(org).get().pk]),
    ):
        assert raw not in http.get(url).content.decode()
    assert raw.split("_")[-1] not in http.get(KEYS).content.decode()


@pytest.mark.parametrize("role", ["executive", "account_manager", "project_manager", "viewer"])
def test_other_roles_get_403(client, org, make_actor, admin, role):
    key, raw = api_key_create(actor=admin, name="k", scope="read")
    client.force_login(make_actor(org, role).user)
    assert client.get(KEYS).status_code == 403
    assert client.get(reverse("accounts:api_key_revoke", args=[key.pk])).status_code == 403
    assert client.post(NEW, {"name": "mine", "scope": "write"}).status_code == 403
    assert client.post(reverse("accounts:api_key_revoke", args=[key.pk])).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None and ApiKey.objects.for_organization(org).count() == 1
    assert bearer(raw).get("/api/v1/clients/").status_code == 200


def test_another_organizations_key_is_404(http, other_admin, other_org):
    theirs, raw = api_key_create(actor=other_admin, name="Theirs", scope="read")
    assert http.get(reverse("accounts:api_key_revoke", args=[theirs.pk])).status_code == 404
    assert http.post(reverse("accounts:api_key_revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "Theirs" not in http.get(KEYS).content.decode()
    assert bearer(raw).get("/api/v1/clients/").status_code == 200


def test_keys_page_queries_do_not_grow_with_rows(http, admin, org, make_actor):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(KEYS).status_code == 200
        writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
        assert writes == []
        return len(queries)

    http.get(reverse("home"))  # the login's bookkeeping: the active organization in the session
    api_key_create(actor=admin, name="k0", scope="read")
    few = count()
    for i in range(20):
        creator = make_actor(org, Role.ADMIN)
        key, _ = api_key_create(actor=creator, name=f"k{i + 1}", scope="write")
        if i % 3 == 0:
            ApiKey.objects.for_organization(org).filter(pk=key.pk).update(
                revoked_at=timezone.now(), last_used_at=timezone.now()
            )
    assert count() == few


def test_keys_page_partial_and_vary(http, admin):
    api_key_create(actor=admin, name="k", scope="read")
    page = http.get(KEYS)
    assert "HX-Request" in page["Vary"]
    partial = http.get(KEYS, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert b"<html" not in partial.content and b'data-testid="api-keys-table"' in partial.content


def test_create_api_key_command_still_works(org, capsys):
    from django.core.management import call_command

    call_command("create_api_key", "--org", org.slug, "--name", "CLI key")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert bearer(raw).get("/api/v1/clients/").status_code == 200
