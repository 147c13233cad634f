"""Sessions: their lifetime, "log out everywhere" (the session generation in the session
hash, SECRET_KEY_FALLBACKS still honoured), and the lockout of failed API-key attempts per
client address (the browser login's lockout is in test_web.py)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

from accounts.permissions import Actor
from accounts.services import api_key_create
from tests.factories import MembershipFactory, UserFactory


def djangos_hash(user) -> str:
    """AbstractBaseUser's session hash: the password alone."""
    salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
    return salted_hmac(salt, user.password, algorithm="sha256").hexdigest()


def test_a_login_lasts_twelve_hours_by_default(settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600


@pytest.mark.django_db
def test_log_out_everywhere_ends_the_other_sessions_and_keeps_this_one(client):
    user = MembershipFactory().user
    client.force_login(user)
    laptop, phone = Client(), Client()
    laptop.force_login(user)
    phone.force_login(user)
    assert laptop.get(reverse("home")).status_code == 200

    assert client.get(reverse("accounts:logout_everywhere")).status_code == 405
    response = client.post(reverse("accounts:logout_everywhere"), follow=True)
    assert "Every other session is logged out" in response.content.decode()
    user.refresh_from_db()
    assert user.session_generation == 1
    assert client.get(reverse("home")).status_code == 200
    for other in (laptop, phone):
        ended = other.get(reverse("home"))
        assert ended.status_code == 302 and ended.url.startswith(reverse("accounts:login"))

    # Logging in again works, and a second "everywhere" ends that session too.
    laptop.force_login(user)
    assert laptop.get(reverse("home")).status_code == 200
    client.post(reverse("accounts:logout_everywhere"))
    assert laptop.get(reverse("home")).status_code == 302
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_session_hash_keeps_djangos_until_a_logout_everywhere_and_honours_fallbacks(settings):
    user = UserFactory()
    # Generation 0: Django's own hash, so sessions from before the field still work.
    assert user.get_session_auth_hash() == djangos_hash(user)
    user.session_generation = 3
    rotated = user.get_session_auth_hash()
    assert rotated != djangos_hash(user)
    # A rotated SECRET_KEY: the old key's hash is among the fallbacks, generation included.
    with override_settings(
        SECRET_KEY="a-new-secret-key", SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]
    ):
        assert user.get_session_auth_hash() != rotated
        assert rotated in list(user.get_session_auth_fallback_hash())
    user.session_generation = 4
    assert rotated not in (user.get_session_auth_hash(), *user.get_session_auth_fallback_hash())


@pytest.mark.django_db
def test_a_session_signed_with_a_fallback_key_survives_the_rotation(client, settings):
    user = MembershipFactory().user
    user.session_generation = 2
    user.save()
    client.force_login(user)
    with override_settings(
        SECRET_KEY="a-new-secret-key", SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]
    ):
        assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_security_page_is_for_every_logged_in_user(client):
    assert client.get(reverse("accounts:security")).status_code == 302
    client.force_login(UserFactory())  # no organization at all
    page = client.get(reverse("accounts:security"))
    assert page.status_code == 200 and b'data-testid="sessions"' in page.content
    assert b'data-testid="org-two-factor"' not in page.content


@pytest.mark.django_db
def test_api_keys_locked_out_per_address_after_repeated_failures(client, org, settings):
    """Ten invalid keys from one address in the window: that address gets a 429 JSON with
    Retry-After, even for a valid key; another address and sessions are not affected."""
    settings.API_KEY_FAILURE_LIMIT = 10
    settings.API_KEY_FAILURE_WINDOW = 900
    _, good = api_key_create(actor=Actor.system(org), name="ERP")
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    url = "/api/v1/clients/"
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {good}", **attacker).status_code == 200
    for i in range(10):
        bad = client.get(url, HTTP_AUTHORIZATION=f"Bearer cdmo_guess_{i}", **attacker)
        assert bad.status_code == 401, i
    locked = client.get(url, HTTP_AUTHORIZATION="Bearer cdmo_guess_x", **attacker)
    assert locked.status_code == 429
    assert "Too many invalid API keys" in locked.json()["detail"]
    assert 1 <= int(locked["Retry-After"]) <= 901
    # Even the right key waits: guessing on cannot confirm a hit.
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {good}", **attacker).status_code == 429
    # Another address is not locked out.
    other = client.get(url, HTTP_AUTHORIZATION=f"Bearer {good}", REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 200

    # The window ends: the address may try again.
    cache.clear()
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {good}", **attacker).status_code == 200


@pytest.mark.django_db
def test_api_key_failures_below_the_limit_do_not_lock(client, org, settings):
    settings.API_KEY_FAILURE_LIMIT = 3
    _, good = api_key_create(actor=Actor.system(org), name="ERP")
    for _ in range(2):
        assert client.get("/api/v1/clients/", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert client.get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Bearer {good}").status_code == 200
    assert client.get("/api/v1/clients/", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert client.get("/api/v1/clients/", HTTP_AUTHORIZATION="Bearer nope").status_code == 429
