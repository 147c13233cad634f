"""Authentication and authorization: keys (hashed, shown once, scoped, revocable, expiring),
sessions with roles, 401 with WWW-Authenticate, 403 for read keys and roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.errors import DomainError, PermissionDeniedError
from accounts.models import ApiKey, AuditEvent
from accounts.permissions import Actor
from accounts.services import api_key_authenticate, api_key_create, api_key_revoke
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
    assert raw.startswith(f"cdmo_{org.public_id}_{stored.prefix}_") and len(raw) > 60
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
    with pytest.raises(DomainError, match="'read', 'write' or 'admin'"):
        api_key_create(actor=admin, name="x", scope="owner")
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


# --- keys name their organization -----------------------------------------------------------
LEGACY_SECRET = "Zx_9-legacy_secret-with_underscores_and-dashes_0123456789"


def legacy_key(organization, *, prefix: str = "0a1b2c3d4e5f", name: str = "legacy") -> str:
    """A key as issued before keys carried the public id: `cdmo_<prefix>_<secret>`."""
    raw = f"cdmo_{prefix}_{LEGACY_SECRET}"
    ApiKey.objects.create(
        organization=organization,
        name=name,
        scope="read",
        prefix=prefix,
        key_hash=hashlib.sha256(raw.encode()).hexdigest(),
    )
    return raw


def fixed_prefix(monkeypatch, prefix: str) -> None:
    """New keys get `prefix` (the service draws it from `secrets.token_hex`)."""
    monkeypatch.setattr(
        services,
        "secrets",
        SimpleNamespace(token_hex=lambda n: prefix, token_urlsafe=secrets.token_urlsafe),
    )


@pytest.mark.django_db
def test_a_new_key_carries_its_organizations_public_id(org, admin):
    key, raw = api_key_create(actor=admin, name="k", scope="read")
    tag, public_id, prefix, secret = raw.split("_", 3)
    assert (tag, public_id, prefix) == ("cdmo", org.public_id, key.prefix)
    assert len(public_id) == 10 and set(public_id) <= set("abcdefghijklmnopqrstuvwxyz234567")
    assert len(secret) >= 43
    response = bearer(raw).get("/api/v1/clients/")
    assert response.status_code == 200
    assert api_key_authenticate(raw) == key


@pytest.mark.django_db
def test_a_key_under_another_organizations_public_id_is_401(org, other_org, admin, monkeypatch):
    key, raw = api_key_create(actor=admin, name="k", scope="write")
    swapped = raw.replace(f"cdmo_{org.public_id}_", f"cdmo_{other_org.public_id}_", 1)
    assert swapped != raw and swapped.endswith(raw.split("_", 2)[2])  # same prefix + secret
    assert bearer(swapped).get("/api/v1/clients/").status_code == 401
    # Even when the other organization has a key with the very same prefix.
    fixed_prefix(monkeypatch, key.prefix)
    theirs, their_raw = api_key_create(actor=Actor.system(other_org), name="k", scope="write")
    assert theirs.prefix == key.prefix
    response = bearer(swapped).get("/api/v1/clients/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="api"'
    # Unknown, malformed or truncated public ids are refused the same way.
    for bad in (
        raw.replace(f"_{org.public_id}_", "_aaaaaaaaaa_", 1),
        raw.replace(f"_{org.public_id}_", f"_{org.public_id.upper()}_", 1),
        f"cdmo_{org.public_id}_{key.prefix}",
    ):
        assert api_key_authenticate(bad) is None, bad
    assert api_key_authenticate(raw) == key and api_key_authenticate(their_raw) == theirs
    key.refresh_from_db()
    assert key.last_used_at is not None  # by the genuine key only


@pytest.mark.django_db
def test_a_key_issued_before_the_public_id_still_authenticates(org, other_org):
    raw = legacy_key(org)
    assert raw.count("_") > 3  # the secret has `_` of its own
    key = ApiKey.objects.for_organization(org).get(name="legacy")
    response = bearer(raw).get("/api/v1/clients/")
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert api_key_authenticate(raw) == key
    # Still a secret: a tampered one, or the legacy prefix under a public id, is refused.
    assert bearer(raw[:-1] + "Q").get("/api/v1/clients/").status_code == 401
    assert api_key_authenticate(f"cdmo_{org.public_id}_{raw.removeprefix('cdmo_')}") is None
    # And revocable like any key.
    api_key_revoke(actor=Actor.system(org), api_key_id=key.pk)
    assert bearer(raw).get("/api/v1/clients/").status_code == 401


@pytest.mark.django_db
def test_a_legacy_key_is_found_when_another_organization_reuses_its_prefix(
    org, other_org, monkeypatch
):
    raw = legacy_key(org, prefix="abcdef012345")
    fixed_prefix(monkeypatch, "abcdef012345")
    theirs, their_raw = api_key_create(actor=Actor.system(other_org), name="k", scope="read")
    assert api_key_authenticate(raw).organization == org
    assert api_key_authenticate(their_raw) == theirs


@pytest.mark.django_db
def test_the_same_prefix_in_two_organizations_is_allowed(org, other_org, monkeypatch):
    fixed_prefix(monkeypatch, "feedc0ffee00")
    mine, my_raw = api_key_create(actor=Actor.system(org), name="k", scope="read")
    theirs, their_raw = api_key_create(actor=Actor.system(other_org), name="k", scope="read")
    assert mine.prefix == theirs.prefix == "feedc0ffee00"
    assert api_key_authenticate(my_raw) == mine and api_key_authenticate(their_raw) == theirs
    assert my_raw.split("_", 3)[3] != their_raw.split("_", 3)[3]
    # Inside one organization a prefix is still unique.
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.create(organization=org, name="k2", prefix="feedc0ffee00", key_hash="0" * 64)
