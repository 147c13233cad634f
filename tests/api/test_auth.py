"""Authentication and authorization: keys (hashed, shown once, scoped, revocable, expiring),
sessions with roles, 401 with WWW-Authenticate, 403 for read keys and roles."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.errors import DomainError, PermissionDeniedError
from accounts.models import ApiKey, AuditEvent
from accounts.permissions import Actor
from accounts.services import api_key_create, api_key_revoke
from journey.models import Client
from tests.factories import MembershipFactory, UserFactory


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.django_db
def test_key_is_stored_hashed_and_shown_once(org, admin):
    key, raw = api_key_create(actor=admin, name="ERP sync", scope="write")
    stored = ApiKey.objects.for_organization(org).get(pk=key.pk)
    assert raw.startswith(f"cdmo_{stored.prefix}_") and len(raw) > 50
    assert raw not in stored.key_hash and len(stored.key_hash) == 64
    assert stored.created_by == admin.user
    assert bearer(raw).get("/api/v1/clients/").status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer cdmo_nope_nope",
        "Bearer not-a-key",
        "Bearer a b",
        "Token abc",
        "Basic Zm9vOmJhcg==",
    ],
    ids=["none", "empty", "unknown", "malformed", "two-words", "other-scheme", "basic"],
)
def test_missing_or_bad_credentials_are_401_with_www_authenticate(db, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert set(response.json()) == {"detail"}


@pytest.mark.django_db
def test_tampered_key_is_401(org, admin):
    _, raw = api_key_create(actor=admin, name="k", scope="read")
    assert (
        bearer(raw[:-1] + ("A" if raw[-1] != "A" else "B")).get("/api/v1/clients/").status_code
        == 401
    )


@pytest.mark.django_db
def test_revoked_key_is_401_and_revoking_is_audited(org, admin):
    key, raw = api_key_create(actor=admin, name="k", scope="write")
    api_key_revoke(actor=admin, api_key_id=key.pk)
    response = bearer(raw).get("/api/v1/clients/")
    assert response.status_code == 401 and "WWW-Authenticate" in response
    event = AuditEvent.objects.for_organization(org).order_by("-id").first()
    assert event.object_type == "accounts.apikey" and "revoked_at" in event.changes


@pytest.mark.django_db
def test_expired_key_is_401(org, admin):
    key, raw = api_key_create(
        actor=admin, name="k", scope="write", expires_at=timezone.now() + dt.timedelta(days=1)
    )
    assert bearer(raw).get("/api/v1/clients/").status_code == 200
    ApiKey.objects.for_organization(org).filter(pk=key.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert bearer(raw).get("/api/v1/clients/").status_code == 401


@pytest.mark.django_db
def test_key_management_is_for_admins(org, am, admin):
    with pytest.raises(PermissionDeniedError):
        api_key_create(actor=am, name="k", scope="read")
    api_key_create(actor=admin, name="Dup", scope="read")
    with pytest.raises(DomainError, match="already exists"):
        api_key_create(actor=admin, name="dup", scope="read")
    with pytest.raises(DomainError, match="'read' or 'write'"):
        api_key_create(actor=admin, name="x", scope="admin")
    with pytest.raises(DomainError, match="future"):
        api_key_create(actor=admin, name="y", scope="read", expires_at=timezone.now())


@pytest.mark.django_db
def test_read_key_cannot_write(org, key_client):
    response = key_client(org, "read").post(
        "/api/v1/clients/", {"name": "X", "segment": "biotech"}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "This API key is read-only."}
    assert not Client.objects.for_organization(org).exists()


@pytest.mark.django_db
def test_api_writes_are_attributed_to_the_key(org, key_client):
    client = key_client(org, "write")
    response = client.post(
        "/api/v1/clients/", {"name": "Keyed Bio", "segment": "biotech"}, format="json"
    )
    assert response.status_code == 201
    event = AuditEvent.objects.for_organization(org).order_by("-id").first()
    key = ApiKey.objects.for_organization(org).get(scope="write")
    assert (event.action, event.actor_api_key, event.actor_user, event.actor_label) == (
        "create",
        key,
        None,
        "api-key:write key",
    )
    # A touchpoint logged by a key has no `by` unless one is given.
    tp = client.post(
        "/api/v1/touchpoints/",
        {"client": response.json()["id"], "kind": "call", "at": "2025-01-01T10:00:00Z"},
        format="json",
    )
    assert tp.status_code == 201 and tp.json()["by"] is None


@pytest.mark.django_db
def test_session_uses_the_active_organization_and_role(org, other_org, session_client):
    user = UserFactory()
    MembershipFactory(user=user, organization=org, role="account_manager")
    MembershipFactory(user=user, organization=other_org, role="viewer")
    client = session_client(user)
    created = client.post(
        "/api/v1/clients/", {"name": "Session Bio", "segment": "biotech"}, format="json"
    )
    assert created.status_code == 201
    event = AuditEvent.objects.for_organization(org).order_by("-id").first()
    assert event.actor_user == user and event.actor_api_key is None
    client.post("/accounts/organization/switch/", {"organization": other_org.slug})
    assert client.get(f"/api/v1/clients/{created.json()['id']}/").status_code == 404
    assert (
        client.post(
            "/api/v1/clients/", {"name": "X", "segment": "biotech"}, format="json"
        ).status_code
        == 403
    )


@pytest.mark.django_db
def test_session_writes_need_csrf(org):
    user = MembershipFactory(organization=org, role="admin").user
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/clients/", {"name": "X", "segment": "biotech"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not Client.objects.for_organization(org).exists()


@pytest.mark.django_db
def test_logged_in_user_without_organization_is_403(db):
    client = APIClient()
    client.force_login(UserFactory())
    response = client.get("/api/v1/clients/")
    assert response.status_code == 403
    assert response.json() == {"detail": "You are not a member of any organization."}


@pytest.mark.django_db
def test_create_api_key_command_prints_the_key_alone_on_the_last_line(org, capsys):
    call_command("create_api_key", "--org", org.slug, "--name", "BI export", "--scope", "read")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("cdmo_") and " " not in last
    assert bearer(last).get("/api/v1/projects/").status_code == 200
    assert ApiKey.objects.for_organization(org).get().scope == "read"


@pytest.mark.django_db
def test_create_api_key_command_errors(org):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No organization"):
        call_command("create_api_key", "--org", "nope", "--name", "x")
    call_command("create_api_key", "--org", org.slug, "--name", "x")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_api_key", "--org", org.slug, "--name", "X")


@pytest.mark.django_db
def test_system_actor_keys_are_audited(org):
    api_key_create(actor=Actor.system(org), name="k", scope="read")
    assert (
        AuditEvent.objects.for_organization(org).filter(object_type="accounts.apikey").count() == 1
    )
