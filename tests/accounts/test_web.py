"""Login by e-mail, logout, the active organization and switching it, the home page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.middleware import SESSION_KEY
from tests.factories import MembershipFactory, OrganizationFactory, ProjectFactory, UserFactory


@pytest.mark.django_db
def test_login_page_and_login_by_email(client):
    user = UserFactory(email="amira@cdmo.example")
    MembershipFactory(user=user, role="account_manager")
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200 and b'type="email"' in page.content
    bad = client.post(
        reverse("accounts:login"), {"username": "amira@cdmo.example", "password": "wrong"}
    )
    assert (
        bad.status_code == 200
        and b"That e-mail and password do not match an account." in bad.content
    )
    ok = client.post(
        reverse("accounts:login"), {"username": "AMIRA@cdmo.example", "password": "pw-for-tests-1"}
    )
    assert ok.status_code == 302 and ok.url == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_home_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_home_shows_only_the_active_organization(client):
    user = UserFactory()
    alpha = OrganizationFactory(name="Alpha CDMO")
    beta = OrganizationFactory(name="Beta CDMO")
    MembershipFactory(user=user, organization=alpha, role="viewer")
    MembershipFactory(user=user, organization=beta, role="admin")
    ProjectFactory(client__organization=alpha, client__name="AlphaSponsor", code="ALPHA-1")
    ProjectFactory(client__organization=beta, client__name="BetaSponsor", code="BETA-1")
    stranger = OrganizationFactory(name="Gamma CDMO")
    ProjectFactory(client__organization=stranger, code="GAMMA-1")
    client.force_login(user)

    page = client.get(reverse("home")).content.decode()
    assert "ALPHA-1" in page and "BETA-1" not in page and "GAMMA-1" not in page
    assert client.session[SESSION_KEY] == alpha.pk

    response = client.post(reverse("accounts:switch_organization"), {"organization": beta.slug})
    assert response.status_code == 302
    page = client.get(reverse("home")).content.decode()
    assert "BETA-1" in page and "ALPHA-1" not in page and "GAMMA-1" not in page

    # Switching to an organization one is not a member of changes nothing.
    client.post(reverse("accounts:switch_organization"), {"organization": stranger.slug})
    assert client.session[SESSION_KEY] == beta.pk
    page = client.get(reverse("home")).content.decode()
    assert "GAMMA-1" not in page and "not a member of that organization" in page


@pytest.mark.django_db
def test_switch_requires_post_and_safe_redirect(client):
    user = UserFactory()
    org = OrganizationFactory()
    MembershipFactory(user=user, organization=org)
    client.force_login(user)
    assert client.get(reverse("accounts:switch_organization")).status_code == 405
    response = client.post(
        reverse("accounts:switch_organization"),
        {"organization": org.slug, "next": "https://evil.example/"},
    )
    assert response.url == "/"


@pytest.mark.django_db
def test_user_without_organization_sees_a_clear_page(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 403 and b"not a member of any organization" in response.content


@pytest.mark.django_db
def test_home_query_count_is_constant(client):
    user = UserFactory()
    org = OrganizationFactory()
    MembershipFactory(user=user, organization=org)
    client.force_login(user)
    client.get(reverse("home"))  # the first visit stores the active organization in the session
    ProjectFactory(client__organization=org)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for _ in range(15):
        pm = MembershipFactory(organization=org, role="project_manager").user
        ProjectFactory(client__organization=org, project_manager=pm)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.django_db
def test_admin_lists_show_every_organization_to_staff(admin_client):
    ProjectFactory(client__organization=OrganizationFactory(name="Alpha CDMO"), code="A-1")
    ProjectFactory(client__organization=OrganizationFactory(name="Beta CDMO"), code="B-1")
    page = admin_client.get("/admin/journey/project/").content.decode()
    assert "A-1" in page and "B-1" in page and "Alpha CDMO" in page
    filtered = admin_client.get("/admin/journey/project/?organization__id__exact=999999")
    assert filtered.status_code in (200, 302)
    for path in (
        "journey/client", "journey/contact", "journey/phasetransition", "journey/milestone",
        "journey/touchpoint", "journey/feedback", "engagement/alert", "engagement/playbook",
        "engagement/engagementsettings", "engagement/clienthealthsnapshot",
    ):  # fmt: skip
        assert admin_client.get(f"/admin/{path}/").status_code == 200
    assert admin_client.get("/admin/accounts/auditevent/").status_code == 200


@pytest.mark.django_db
def test_login_locks_out_after_repeated_wrong_passwords(client, settings):
    """Five wrong passwords for one e-mail from one address lock that pair out: even the
    right password is then refused, with a page that says why; nothing is logged in."""
    from accounts.models import User

    settings.AXES_FAILURE_LIMIT = 5
    User.objects.create_user(email="target@cdmo.example", password="the-right-one-2026")
    url = reverse("accounts:login")
    for _ in range(4):
        response = client.post(url, {"username": "target@cdmo.example", "password": "nope"})
        assert response.status_code == 200
        assert "do not match an account" in response.content.decode()
    locked = client.post(url, {"username": "target@cdmo.example", "password": "nope"})
    assert locked.status_code in (403, 429)
    again = client.post(url, {"username": "target@cdmo.example", "password": "the-right-one-2026"})
    assert again.status_code in (403, 429)
    assert "Too many failed attempts" in again.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked.
    User.objects.create_user(email="other@cdmo.example", password="the-right-one-2026")
    ok = client.post(url, {"username": "other@cdmo.example", "password": "the-right-one-2026"})
    assert ok.status_code == 302
