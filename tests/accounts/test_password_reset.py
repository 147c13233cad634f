"""Password validators, reset by e-mail (link from SITE_URL, once, no account enumeration,
throttled) and password change."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from tests.factories import MembershipFactory, UserFactory

NEW_PASSWORD = "sturdy-violet-reactor-42"


@pytest.fixture
def request_reset(django_capture_on_commit_callbacks):
    """Ask for a reset link; the e-mail (an outbox row) goes out when the request commits."""

    def _post(client, email, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("accounts:password_reset"), {"email": email}, **extra)

    return _post


def link_in(message) -> str:
    return re.search(r"(https?://\S+/accounts/password/reset/\S+/)", message.body).group(1)


def test_password_validators_are_the_four_with_twelve_characters():
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    user = User(email="amira.haddad@cdmo.example", full_name="Amira Haddad")
    for weak, why in [
        ("short-pw-1", "at least 12 characters"),
        ("password1234", "too common"),
        ("428519374620", "entirely numeric"),
        ("amira.haddad@cdmo", "too similar"),
    ]:
        with pytest.raises(ValidationError) as exc:
            password_validation.validate_password(weak, user)
        assert why in " ".join(exc.value.messages), weak
    password_validation.validate_password(NEW_PASSWORD, user)


@pytest.mark.django_db
def test_login_page_links_to_the_reset(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert f'href="{reverse("accounts:password_reset")}"' in page
    assert "Forgot your password?" in page


@pytest.mark.django_db(transaction=True)
def test_reset_email_link_from_site_url_works_once_and_ends_every_session(
    client, settings, request_reset
):
    settings.SITE_URL = "https://journey.cdmo.example"
    user = MembershipFactory(user__email="amira@cdmo.example").user
    elsewhere = client.__class__()
    elsewhere.force_login(user)
    assert elsewhere.get(reverse("home")).status_code == 200

    # A poisoned Host header does not reach the link (the host is allowed for the test).
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    sent = request_reset(client, "AMIRA@cdmo.example", HTTP_HOST="evil.example")
    assert sent.status_code == 302 and sent.url == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["amira@cdmo.example"] and "\n" not in message.subject
    link = link_in(message)
    assert link.startswith("https://journey.cdmo.example/accounts/password/reset/")
    assert "evil.example" not in message.body

    path = link.removeprefix(settings.SITE_URL)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    assert b'data-valid="yes"' in form_page.content
    set_url = form_page.redirect_chain[-1][0]

    # Weak passwords: inline errors, nothing changes.
    weak = client.post(set_url, {"new_password1": "short", "new_password2": "short"})
    assert weak.status_code == 200
    assert 'data-error-for="new_password2"' in weak.content.decode()
    assert "at least 12 characters" in weak.content.decode()
    user.refresh_from_db()
    assert user.check_password("pw-for-tests-1")

    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # Every session of the account ended.
    assert elsewhere.get(reverse("home")).status_code == 302

    # The link works once.
    again = client.get(path, follow=True)
    assert b'data-valid="no"' in again.content
    assert b"invalid, has expired or was already used" in again.content
    assert (
        client.post(
            reverse("accounts:login"), {"username": user.email, "password": NEW_PASSWORD}
        ).status_code
        == 302
    )


@pytest.mark.django_db
def test_a_bad_or_expired_token_shows_a_clear_page(client, settings, request_reset):
    user = UserFactory()
    request_reset(client, user.email)
    path = link_in(mail.outbox[0]).removeprefix(settings.SITE_URL)
    uid = path.split("/")[-3]
    bad = client.get(reverse("accounts:password_reset_confirm", args=[uid, "abc-123"]))
    assert bad.status_code == 200
    assert b"This link does not work" in bad.content
    assert b'href="/accounts/password/reset/"' in bad.content

    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is already expired
    expired = client.get(path, follow=True)
    assert b'data-valid="no"' in expired.content


@pytest.mark.django_db
def test_unknown_address_gets_the_same_page_and_no_email(client, request_reset):
    UserFactory(email="known@cdmo.example")
    known = request_reset(client, "known@cdmo.example", follow=True)
    unknown = request_reset(client, "nobody@cdmo.example", follow=True)
    assert known.status_code == unknown.status_code == 200
    assert [m.to for m in mail.outbox] == [["known@cdmo.example"]]
    assert unknown.redirect_chain == known.redirect_chain
    assert b"Check your inbox" in unknown.content

    invalid = request_reset(client, "not-an-address")
    assert invalid.status_code == 200
    assert b'data-error-for="email"' in invalid.content


@pytest.mark.django_db
def test_reset_emails_per_address_are_throttled(client, settings, request_reset):
    settings.PASSWORD_RESET_EMAILS_PER_HOUR = 3
    UserFactory(email="busy@cdmo.example")
    UserFactory(email="calm@cdmo.example")
    for _ in range(5):
        response = request_reset(client, "busy@cdmo.example")
        assert response.status_code == 302  # the same answer every time
    assert len(mail.outbox) == 3
    request_reset(client, "calm@cdmo.example")
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_password_change_keeps_this_session_and_ends_the_others(client):
    user = MembershipFactory().user
    client.force_login(user)
    other = client.__class__()
    other.force_login(user)
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200

    weak = client.post(
        url, {"old_password": "pw-for-tests-1", "new_password1": "1234", "new_password2": "1234"}
    )
    assert weak.status_code == 200 and 'data-error-for="new_password2"' in weak.content.decode()
    wrong_old = client.post(
        url, {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert 'data-error-for="old_password"' in wrong_old.content.decode()

    ok = client.post(
        url,
        {
            "old_password": "pw-for-tests-1",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert ok.status_code == 302 and ok.url == reverse("accounts:security")
    assert client.get(reverse("home")).status_code == 200
    assert other.get(reverse("home")).status_code == 302
