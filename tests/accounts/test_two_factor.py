"""TOTP two-factor with backup codes (real django-otp devices, real codes): setup, the second
login step, throttling, backup codes used once, the organization's rule for admins (pages
and API), who may change that rule, turning 2FA off."""

from __future__ import annotations

import re
from base64 import b32encode

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import AuditEvent, Organization, Role
from accounts.permissions import Actor
from accounts.services import api_key_create
from tests.factories import MembershipFactory

PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    """The code an authenticator app shows now (drift: steps ahead)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def enable_two_factor(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    return device, two_factor.backup_codes_regenerate(user=user)


def log_in(client, user):
    return client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})


def verify(client, code):
    return client.post(reverse("accounts:login_verify"), {"code": code})


@pytest.mark.django_db
def test_setup_shows_qr_and_secret_confirms_with_a_code_then_shows_ten_backup_codes(client, admin):
    user = admin.user
    client.force_login(user)
    page = client.get(reverse("accounts:security"))
    assert page.status_code == 200 and b'data-testid="two-factor-off"' in page.content

    # Opening the setup page writes nothing; Start makes an inactive device.
    assert b'data-testid="totp-start"' in client.get(reverse("accounts:totp_setup")).content
    assert not TOTPDevice.objects.filter(user=user).exists()
    client.post(reverse("accounts:totp_setup"), {"start": "1"})
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False

    setup = client.get(reverse("accounts:totp_setup")).content.decode()
    svg = re.search(r"<svg.*?</svg>", setup, re.S).group(0)
    assert "<path" in svg and "style" not in svg  # the CSP forbids inline style
    secret = b32encode(device.bin_key).decode()
    shown = re.search(r'data-testid="totp-secret">([^<]+)<', setup).group(1)
    assert shown.replace(" ", "") == secret

    # A wrong code: an inline error, still inactive, and nobody is logged in by it.
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    bad = client.post(reverse("accounts:totp_setup"), {"code": wrong})
    assert bad.status_code == 200 and "That code does not match" in bad.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    device.throttle_reset()

    done = client.post(reverse("accounts:totp_setup"), {"code": code_for(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed is True
    assert sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    ) == sorted(codes)
    # This session is the verified one: the Security page shows 2FA on.
    page = client.get(reverse("accounts:security")).content.decode()
    assert 'data-testid="two-factor-on"' in page and "10 unused backup codes" in page


@pytest.mark.django_db
def test_login_needs_the_second_step_and_wrong_codes_are_throttled(client, admin):
    user = admin.user
    device, _ = enable_two_factor(user)
    response = log_in(client, user)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login_verify") + "?next=")
    assert client.session["_auth_user_id"] == str(user.pk)

    # Until the code, nothing but the verify and logout pages opens.
    for url in (reverse("home"), reverse("accounts:security"), reverse("accounts:audit_log")):
        blocked = client.get(url)
        assert blocked.status_code == 302
        assert blocked.url.startswith(reverse("accounts:login_verify"))
    api = client.get("/api/v1/clients/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    page = client.get(reverse("accounts:login_verify"))
    assert page.status_code == 200 and b'data-testid="verify"' in page.content
    assert b'class="sidebar"' not in page.content  # the login layout, no navigation

    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    bad = verify(client, wrong)
    assert bad.status_code == 200 and "That code is not valid" in bad.content.decode()
    # django-otp's throttle: right after a miss, even the right code waits.
    throttled = verify(client, code_for(device))
    assert "Too many wrong codes" in throttled.content.decode()
    assert client.get(reverse("home")).status_code == 302

    device.refresh_from_db()
    device.throttle_reset()
    ok = verify(client, code_for(device))
    assert ok.status_code == 302 and ok.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert client.get("/api/v1/clients/").status_code == 200
    # The same code does not work twice (another session cannot replay it).
    other = client.__class__()
    log_in(other, user)
    assert "That code is not valid" in verify(other, code_for(device)).content.decode()


@pytest.mark.django_db
def test_a_backup_code_works_once(client, admin):
    user = admin.user
    _, codes = enable_two_factor(user)
    log_in(client, user)
    ok = verify(client, codes[0].upper())  # typed in capitals: still the code
    assert ok.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert StaticToken.objects.filter(device__user=user).count() == 9
    client.post(reverse("accounts:logout"))

    log_in(client, user)
    again = verify(client, codes[0])
    assert "That code is not valid" in again.content.decode()
    assert client.get(reverse("home")).status_code == 302
    device = user.staticdevice_set.get()
    device.throttle_reset()
    assert verify(client, codes[1]).status_code == 302
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_a_session_from_another_login_path_still_owes_the_second_step(client, admin):
    """force_login stands for the Django admin's own login page: no path skips 2FA."""
    enable_two_factor(admin.user)
    client.force_login(admin.user)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login_verify"))


@pytest.mark.django_db
def test_regenerated_backup_codes_replace_the_old_ones(client, admin):
    user = admin.user
    device, old = enable_two_factor(user)
    log_in(client, user)
    verify(client, code_for(device))
    page = client.post(reverse("accounts:backup_codes_regenerate"))
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == (
        set(new)
    )


@pytest.mark.django_db
def test_required_for_admins_pages_and_api_but_not_api_keys_nor_other_roles(client, org, admin, am):
    org.require_admin_two_factor = True
    org.save()
    _, raw_key = api_key_create(actor=Actor.system(org), name="ERP")

    client.force_login(admin.user)
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home.url.startswith(reverse("accounts:security"))
    assert client.get(reverse("accounts:audit_log")).status_code == 302
    api = client.get("/api/v1/clients/")
    assert api.status_code == 403
    assert "requires admins to use two-factor" in api.json()["detail"]
    # The way out stays open.
    assert client.get(reverse("accounts:security")).status_code == 200
    assert client.get(reverse("accounts:totp_setup")).status_code == 200
    # An API key is not a session: unaffected, even sent from the admin's browser.
    keyed = client.get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert keyed.status_code == 200

    # Set up, verified: everything opens again.
    client.post(reverse("accounts:totp_setup"), {"start": "1"})
    device = TOTPDevice.objects.get(user=admin.user)
    assert (
        client.post(reverse("accounts:totp_setup"), {"code": code_for(device)}).status_code == 200
    )
    assert client.get(reverse("home")).status_code == 200
    assert client.get("/api/v1/clients/").status_code == 200

    # An account manager of the same organization is not asked for anything.
    other = client.__class__()
    other.force_login(am.user)
    assert other.get(reverse("home")).status_code == 200
    assert other.get("/api/v1/clients/").status_code == 200


@pytest.mark.django_db
def test_turning_the_rule_on_is_admin_only_needs_own_2fa_and_is_audited(client, org, admin, am):
    url = reverse("accounts:organization_two_factor")
    # Not an admin: a 403 and nothing changes.
    client.force_login(am.user)
    assert client.post(url, {"required": "1"}).status_code == 403
    org.refresh_from_db()
    assert org.require_admin_two_factor is False

    # An admin without a verified second factor is told to set up their own first.
    admin_client = client.__class__()
    admin_client.force_login(admin.user)
    refused = admin_client.post(url, {"required": "1"}, follow=True)
    assert "Set up two-factor authentication for yourself first" in refused.content.decode()
    org.refresh_from_db()
    assert org.require_admin_two_factor is False

    device, _ = enable_two_factor(admin.user)
    admin_client = client.__class__()
    log_in(admin_client, admin.user)
    verify(admin_client, code_for(device))
    page = admin_client.post(url, {"required": "1"}, follow=True).content.decode()
    assert "must now use two-factor" in page
    org.refresh_from_db()
    assert org.require_admin_two_factor is True
    event = AuditEvent.objects.for_organization(org).get(object_type="accounts.organization")
    assert event.changes == {"require_admin_two_factor": [False, True]}
    assert event.actor_user == admin.user

    admin_client.post(url, {"required": "0"})
    org.refresh_from_db()
    assert org.require_admin_two_factor is False


@pytest.mark.django_db
def test_the_rule_changes_only_the_active_organization_and_only_where_admin(client, org, other_org):
    """Admin of Alpha, viewer of Beta, working in Beta: a 403, neither changes. Working in
    Alpha: only Alpha changes (the organization comes from the membership, not the body)."""
    membership = MembershipFactory(organization=org, role=Role.ADMIN)
    user = membership.user
    MembershipFactory(organization=other_org, user=user, role=Role.VIEWER)
    device, _ = enable_two_factor(user)
    log_in(client, user)
    verify(client, code_for(device))
    client.post(reverse("accounts:switch_organization"), {"organization": other_org.slug})
    url = reverse("accounts:organization_two_factor")
    assert client.post(url, {"required": "1", "organization": org.pk}).status_code == 403
    assert not Organization.objects.filter(require_admin_two_factor=True).exists()

    client.post(reverse("accounts:switch_organization"), {"organization": org.slug})
    client.post(url, {"required": "1", "organization": other_org.pk})
    assert list(
        Organization.objects.filter(require_admin_two_factor=True).values_list("pk", flat=True)
    ) == [org.pk]
    assert not AuditEvent.objects.for_organization(other_org).exists()


@pytest.mark.django_db
def test_turning_2fa_off_needs_a_current_code_and_is_refused_while_required(client, org, admin):
    user = admin.user
    device, codes = enable_two_factor(user)
    log_in(client, user)
    verify(client, code_for(device, drift=-1))
    url = reverse("accounts:two_factor_disable")

    bad = client.post(url, {"disable-code": "000000" if code_for(device) != "000000" else "111111"})
    assert bad.status_code == 400 and "That code is not valid" in bad.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()

    org.require_admin_two_factor = True
    org.save()
    refused = client.post(url, {"disable-code": codes[0]})
    assert refused.status_code == 400
    assert "requires two-factor authentication for its admins" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()
    assert StaticToken.objects.filter(device__user=user).count() == 10  # not spent

    org.require_admin_two_factor = False
    org.save()
    ok = client.post(url, {"disable-code": codes[0]})
    assert ok.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert b'data-testid="two-factor-off"' in client.get(reverse("accounts:security")).content
    client.post(reverse("accounts:logout"))
    assert log_in(client, user).url == reverse("home")  # no second step any more


@pytest.mark.django_db
def test_security_page_query_count_is_small(client, admin, django_assert_max_num_queries):
    device, _ = enable_two_factor(admin.user)
    log_in(client, admin.user)
    verify(client, code_for(device))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("accounts:security")).status_code == 200
