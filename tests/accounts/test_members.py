"""Members in the browser (admins): invite by e-mail (an expiring, single-use link; a new
person sets a password, someone with an account logs in and confirms), change a role, remove
a member, never the last admin; another organization's ids are 404s, other roles get 403."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.errors import DomainError, PermissionDeniedError
from accounts.middleware import SESSION_KEY
from accounts.models import AuditEvent, Invitation, Membership, Role, User
from accounts.permissions import Actor
from accounts.services import (
    invitation_accept,
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_remove,
)
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
MEMBERS = reverse("accounts:members")
GOOD_PASSWORD = "violet-harbour-57-lantern"
WRITES = ("INSERT", "UPDATE", "DELETE")


def accept_url(token: str) -> str:
    return reverse("accounts:invitation_accept", args=[token])


def invite(http, email: str, role: str = "viewer", capture=None):
    """POST the invite form; returns the response and the token from the e-mail sent."""
    mail.outbox.clear()
    with capture(execute=True):
        response = http.post(reverse("accounts:member_invite"), {"email": email, "role": role})
    token = None
    if mail.outbox:
        match = re.search(r"/accounts/invitations/([^/\s]+)/", mail.outbox[-1].body)
        token = match.group(1) if match else None
    return response, token


def writes_of(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


@pytest.fixture
def http(client, admin):
    client.force_login(admin.user)
    return client


# --- invitations ----------------------------------------------------------------------------
def test_invite_a_new_person_who_sets_a_password_and_joins(
    http, client, admin, org, django_capture_on_commit_callbacks
):
    response, token = invite(
        http, "New.Person@Example.com", "project_manager", django_capture_on_commit_callbacks
    )
    assert response.status_code == 302 and response.url == MEMBERS
    # The e-mail: to the invitee, one-line subject, the absolute link built from SITE_URL.
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["new.person@example.com"]
    assert sent.subject == "Invitation to join Alpha CDMO on CDMO Journey"
    assert f"{settings.SITE_URL}/accounts/invitations/inv_{org.public_id}_" in sent.body
    assert "Project manager" in sent.body
    invitation = Invitation.objects.for_organization(org).get()
    assert (invitation.email, invitation.role) == ("new.person@example.com", "project_manager")
    # Only a hash is stored; expiry is INVITATION_MAX_AGE_DAYS ahead.
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    days = (invitation.expires_at - invitation.created_at).total_seconds() / 86400
    assert days == pytest.approx(settings.INVITATION_MAX_AGE_DAYS)
    page = http.get(MEMBERS).content.decode()
    assert "new.person@example.com" in page and 'data-testid="invitations"' in page

    http.post(reverse("accounts:logout"))
    form = client.get(accept_url(token))
    assert form.status_code == 200 and form["Cache-Control"].startswith("max-age=0")
    assert 'data-mode="signup"' in form.content.decode()
    assert form["Referrer-Policy"] == "same-origin"

    # Django's password validators, inline; nothing created.
    weak = client.post(
        accept_url(token), {"full_name": "Nia New", "password": "123", "password_confirm": "123"}
    )
    html = weak.content.decode()
    assert weak.status_code == 200 and 'data-error-for="password"' in html
    assert "too short" in html and "entirely numeric" in html
    differ = client.post(
        accept_url(token),
        {"full_name": "Nia New", "password": GOOD_PASSWORD, "password_confirm": "other"},
    )
    assert "The two passwords differ." in differ.content.decode()
    assert not User.objects.filter(email="new.person@example.com").exists()

    done = client.post(
        accept_url(token),
        {"full_name": "Nia New", "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
    )
    assert done.status_code == 302 and done.url == reverse("home")
    user = User.objects.get(email="new.person@example.com")
    assert user.full_name == "Nia New" and user.check_password(GOOD_PASSWORD)
    assert Membership.objects.get(organization=org, user=user).role == "project_manager"
    assert client.session[SESSION_KEY] == org.pk
    home = client.get(reverse("home"))
    assert home.status_code == 200 and "Welcome to Alpha CDMO" in home.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.accepted_by == user
    events = AuditEvent.objects.for_organization(org)
    assert events.filter(
        object_type="accounts.membership", action="create", changes__role=[None, "project_manager"]
    ).exists()
    assert events.filter(object_type="accounts.invitation", action="create").exists()

    # Single use: the same link again is a clear "used" page and changes nothing.
    again = client.get(accept_url(token))
    assert again.status_code == 410 and 'data-status="used"' in again.content.decode()
    client.post(reverse("accounts:logout"))
    reused = client.post(
        accept_url(token),
        {"full_name": "Mallory", "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
    )
    assert reused.status_code == 410
    assert Membership.objects.filter(organization=org).count() == 2


def test_invite_someone_with_an_account_who_logs_in_and_confirms(
    http, client, admin, org, other_org, django_capture_on_commit_callbacks
):
    elsewhere = MembershipFactory(
        organization=other_org, role="admin", user__email="known@example.com"
    ).user
    stranger = UserFactory(email="someone.else@example.com")
    _, token = invite(http, "known@example.com", "executive", django_capture_on_commit_callbacks)
    http.post(reverse("accounts:logout"))

    anonymous = client.get(accept_url(token)).content.decode()
    assert 'data-mode="login"' in anonymous and "?next=/accounts/invitations/" in anonymous
    # An anonymous POST cannot create a second account for that e-mail.
    client.post(
        accept_url(token),
        {"full_name": "X", "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
    )
    assert User.objects.filter(email="known@example.com").count() == 1

    client.force_login(stranger)
    wrong = client.get(accept_url(token)).content.decode()
    assert 'data-mode="wrong_user"' in wrong and "known@example.com" in wrong
    client.post(accept_url(token))
    assert not Membership.objects.filter(organization=org, user=stranger).exists()

    client.force_login(elsewhere)
    assert 'data-mode="confirm"' in client.get(accept_url(token)).content.decode()
    joined = client.post(accept_url(token))
    assert joined.status_code == 302
    assert Membership.objects.get(organization=org, user=elsewhere).role == "executive"
    assert Membership.objects.get(organization=other_org, user=elsewhere).role == "admin"
    assert client.session[SESSION_KEY] == org.pk  # now working in the new organization
    assert client.get(accept_url(token)).status_code == 410


def test_expired_invitation_is_a_clear_page_and_changes_nothing(client, admin, org):
    invitation, token = invitation_create(actor=admin, email="late@example.com", role="viewer")
    Invitation.objects.for_organization(org).filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    page = client.get(accept_url(token))
    assert page.status_code == 410 and 'data-status="expired"' in page.content.decode()
    post = client.post(
        accept_url(token),
        {"full_name": "Late", "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
    )
    assert post.status_code == 410
    assert not User.objects.filter(email="late@example.com").exists()
    with pytest.raises(DomainError) as exc:
        invitation_accept(token=token, user=None, full_name="Late", password=GOOD_PASSWORD)
    assert exc.value.code == "expired"


def test_revoked_invitation_is_refused(http, client, admin, org):
    invitation, token = invitation_create(actor=admin, email="gone@example.com", role="viewer")
    response = http.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    page = http.get(MEMBERS).content.decode()
    assert "withdrawn" in page and f'data-invitation="{invitation.pk}"' not in page
    http.post(reverse("accounts:logout"))
    page = client.get(accept_url(token))
    assert page.status_code == 410 and 'data-status="revoked"' in page.content.decode()
    client.post(
        accept_url(token),
        {"full_name": "Gone", "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
    )
    assert not User.objects.filter(email="gone@example.com").exists()
    assert (
        AuditEvent.objects.for_organization(org)
        .filter(object_type="accounts.invitation", action="update", changes__has_key="revoked_at")
        .exists()
    )


def test_malformed_and_unknown_tokens_are_not_found(client, admin, org):
    invitation_create(actor=admin, email="x@example.com", role="viewer")
    for token in [
        "garbage",
        "inv_",
        "inv__",
        f"inv_{org.public_id}_",
        "inv_NOTAPUBLICID_secret",
        f"cdmo_{org.public_id}_secret",
        f"inv_{org.public_id}_" + "a" * 300,
        f"inv_{org.public_id}_wrongsecret",
        "inv_aaaaaaaaaa_secret",  # a well-formed public id of no organization
    ]:
        response = client.get(accept_url(token))
        assert response.status_code == 404, token
        assert 'data-status="unknown"' in response.content.decode()
    assert Membership.objects.filter(organization=org).count() == 1


def test_another_organizations_token_is_not_found(client, admin, other_admin, org, other_org):
    _, theirs = invitation_create(actor=other_admin, email="t@example.com", role="admin")
    _, mine = invitation_create(actor=admin, email="m@example.com", role="admin")
    secret = theirs.split("_", 2)[2]
    # Their secret under our public id, and our secret under theirs: unknown, same page.
    for token in (f"inv_{org.public_id}_{secret}", f"inv_{other_org.public_id}_{mine[15:]}"):
        get = client.get(accept_url(token))
        assert get.status_code == 404 and 'data-status="unknown"' in get.content.decode()
        post = client.post(
            accept_url(token),
            {"full_name": "T", "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
        )
        assert post.status_code == 404
    assert not User.objects.filter(email__in=["t@example.com", "m@example.com"]).exists()
    assert Membership.objects.filter(organization=org).count() == 1
    assert Membership.objects.filter(organization=other_org).count() == 1


def test_inviting_a_member_is_a_form_error(
    http, admin, org, make_actor, django_capture_on_commit_callbacks
):
    member = make_actor(org, Role.VIEWER, user__email="member@example.com")
    response, token = invite(
        http, "MEMBER@example.com", "admin", django_capture_on_commit_callbacks
    )
    html = response.content.decode()
    assert response.status_code == 200 and token is None and mail.outbox == []
    assert 'data-error-for="email"' in html
    assert "member@example.com is already a member of this organization." in html
    assert not Invitation.objects.for_organization(org).exists()
    bad, _ = invite(http, "not an e-mail", "admin", django_capture_on_commit_callbacks)
    assert 'data-error-for="email"' in bad.content.decode()
    worse, _ = invite(http, "a@example.com", "overlord", django_capture_on_commit_callbacks)
    assert 'data-error-for="role"' in worse.content.decode()
    assert not Invitation.objects.for_organization(org).exists()
    assert Membership.objects.get(pk=Membership.objects.get(user=member.user).pk).role == "viewer"


def test_inviting_again_replaces_the_pending_link(
    http, client, org, django_capture_on_commit_callbacks
):
    _, first = invite(http, "twice@example.com", "viewer", django_capture_on_commit_callbacks)
    _, second = invite(http, "twice@example.com", "executive", django_capture_on_commit_callbacks)
    assert first and second and first != second
    invitations = Invitation.objects.for_organization(org).order_by("created_at")
    assert [(i.role, i.revoked_at is None) for i in invitations] == [
        ("viewer", False),
        ("executive", True),
    ]
    http.post(reverse("accounts:logout"))
    assert client.get(accept_url(first)).status_code == 410
    assert client.get(accept_url(second)).status_code == 200


def test_email_subject_carries_no_newline_from_the_organization_name(
    admin, org, django_capture_on_commit_callbacks
):
    org.name = "Alpha\r\nBcc: evil@example.com"
    org.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            actor=Actor.from_membership(Membership.objects.get(user=admin.user)),
            email="n@example.com",
            role="viewer",
        )
    (sent,) = mail.outbox
    assert "\n" not in sent.subject and "\r" not in sent.subject
    assert sent.to == ["n@example.com"] and not sent.bcc


def test_two_accepts_in_a_row_make_one_membership(admin, org):
    user = UserFactory(email="double@example.com")
    _, token = invitation_create(actor=admin, email="double@example.com", role="viewer")
    invitation_accept(token=token, user=user)
    with pytest.raises(DomainError) as exc:
        invitation_accept(token=token, user=user)
    assert exc.value.code == "used"
    assert Membership.objects.filter(organization=org, user=user).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_concurrent_accepts_of_one_invitation_make_one_membership(monkeypatch):
    org = OrganizationFactory()
    admin = Actor.from_membership(MembershipFactory(organization=org, role="admin"))
    user = UserFactory(email="race@example.com")
    _, token = invitation_create(actor=admin, email="race@example.com", role="executive")
    # Both threads find the invitation open before either claims it: the conditional
    # update is then the only thing between them.
    barrier = threading.Barrier(2)
    real_lookup = services.invitation_lookup

    def lookup_then_wait(**kwargs):
        state = real_lookup(**kwargs)
        barrier.wait(timeout=10)
        return state

    monkeypatch.setattr(services, "invitation_lookup", lookup_then_wait)
    results: list[object] = [None, None]

    def run(i: int) -> None:
        try:
            results[i] = invitation_accept(token=token, user=user)
        except DomainError as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [r for r in results if isinstance(r, Membership)]
    losers = [r for r in results if isinstance(r, DomainError)]
    assert len(winners) == 1 and len(losers) == 1 and losers[0].code == "used"
    assert Membership.objects.filter(organization=org, user=user).count() == 1
    assert (
        AuditEvent.objects.for_organization(org)
        .filter(object_type="accounts.membership", action="create", changes__user__1=user.email)
        .count()
        == 1
    )


# --- roles and removal: never the last admin ------------------------------------------------
def test_change_a_role_with_before_and_after_in_the_audit(http, admin, org, make_actor):
    pm = make_actor(org, Role.PROJECT_MANAGER)
    membership = Membership.objects.get(organization=org, user=pm.user)
    response = http.post(reverse("accounts:member_role", args=[membership.pk]), {"role": "viewer"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "viewer"
    event = AuditEvent.objects.for_organization(org).get(
        object_type="accounts.membership", object_id=membership.pk, action="update"
    )
    assert event.changes == {"role": ["project_manager", "viewer"]}
    assert event.actor_user == admin.user
    bad = http.post(reverse("accounts:member_role", args=[membership.pk]), {"role": "god"})
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()
    membership.refresh_from_db()
    assert membership.role == "viewer"


def test_the_last_admin_cannot_be_demoted_or_removed(http, admin, org):
    mine = Membership.objects.get(organization=org, user=admin.user)
    demote = http.post(reverse("accounts:member_role", args=[mine.pk]), {"role": "viewer"})
    html = demote.content.decode()
    assert demote.status_code == 200 and 'data-testid="members-error"' in html
    assert "is the organization&#x27;s last admin" in html
    remove = http.post(reverse("accounts:member_remove", args=[mine.pk]))
    assert remove.status_code == 200 and "last admin" in remove.content.decode()
    mine.refresh_from_db()
    assert mine.role == "admin"
    assert (
        not AuditEvent.objects.for_organization(org)
        .filter(object_type="accounts.membership")
        .exists()
    )
    with pytest.raises(DomainError, match="last admin"):
        membership_change_role(actor=admin, membership_id=mine.pk, role="executive")
    with pytest.raises(DomainError, match="last admin"):
        membership_remove(actor=admin, membership_id=mine.pk)


def test_with_another_admin_one_can_step_down_or_leave(http, client, admin, org, make_actor):
    second = make_actor(org, Role.ADMIN)
    theirs = Membership.objects.get(organization=org, user=second.user)
    mine = Membership.objects.get(organization=org, user=admin.user)
    # Demote the other admin: allowed (I remain); then I am the last one again.
    assert (
        http.post(reverse("accounts:member_role", args=[theirs.pk]), {"role": "viewer"}).status_code
        == 302
    )
    assert http.post(reverse("accounts:member_remove", args=[mine.pk])).status_code == 200
    assert Membership.objects.filter(pk=mine.pk).exists()
    http.post(reverse("accounts:member_role", args=[theirs.pk]), {"role": "admin"})
    # Removing myself is allowed now, and takes me out of the organization.
    assert (
        "Leave Alpha CDMO?"
        in http.get(reverse("accounts:member_remove", args=[mine.pk])).content.decode()
    )
    left = http.post(reverse("accounts:member_remove", args=[mine.pk]))
    assert left.status_code == 302 and left.url == reverse("home")
    assert not Membership.objects.filter(pk=mine.pk).exists()
    event = AuditEvent.objects.for_organization(org).get(
        object_type="accounts.membership", object_id=mine.pk, action="delete"
    )
    assert event.changes == {"user": [admin.user.email, None], "role": ["admin", None]}
    assert http.get(MEMBERS).status_code == 403  # no organization any more


def test_remove_a_member(http, org, make_actor):
    viewer = make_actor(org, Role.VIEWER, user__email="bye@example.com")
    membership = Membership.objects.get(organization=org, user=viewer.user)
    confirm = http.get(reverse("accounts:member_remove", args=[membership.pk]))
    assert confirm.status_code == 200 and "bye@example.com" in confirm.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()  # a GET changes nothing
    done = http.post(reverse("accounts:member_remove", args=[membership.pk]))
    assert done.status_code == 302 and done.url == MEMBERS
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=viewer.user.pk).exists()  # the account stays


def test_an_admin_demoted_meanwhile_is_refused(org, make_actor):
    """What the row lock serializes on PostgreSQL: the second of two admins demoting each
    other is no longer an admin when its turn comes."""
    a = make_actor(org, Role.ADMIN)
    b = make_actor(org, Role.ADMIN)
    make_actor(org, Role.ADMIN)
    membership_change_role(
        actor=a, membership_id=Membership.objects.get(user=b.user).pk, role="viewer"
    )
    with pytest.raises(PermissionDeniedError, match="no longer an admin"):
        membership_change_role(
            actor=b, membership_id=Membership.objects.get(user=a.user).pk, role="viewer"
        )
    assert Membership.objects.get(user=a.user).role == "admin"


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_two_admins_demoting_each_other_at_once_leave_an_admin(monkeypatch):
    org = OrganizationFactory()
    a = Actor.from_membership(MembershipFactory(organization=org, role="admin"))
    b = Actor.from_membership(MembershipFactory(organization=org, role="admin"))
    ids = {
        m.user_id: m.pk for m in Membership.objects.filter(organization=org).only("pk", "user_id")
    }
    start = threading.Barrier(2)
    # Each thread waits (a little) once it holds the admins: without the row lock both get
    # there and both write; with it the second is still blocked, and the barrier breaks.
    inside = threading.Barrier(2)
    real_lock = services._admins_lock

    def lock_then_wait(**kwargs):
        admins = real_lock(**kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            inside.wait(timeout=2)
        return admins

    monkeypatch.setattr(services, "_admins_lock", lock_then_wait)
    results: list[object] = [None, None]

    def run(i: int, actor: Actor, target: int) -> None:
        try:
            start.wait(timeout=10)
            results[i] = membership_change_role(actor=actor, membership_id=target, role="viewer")
        except DomainError as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(0, a, ids[b.user.pk])),
        threading.Thread(target=run, args=(1, b, ids[a.user.pk])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # One wins; the other gets a clear refusal (not a deadlock or a 500).
    assert sum(isinstance(r, Membership) for r in results) == 1
    assert sum(isinstance(r, DomainError) for r in results) == 1, results
    assert Membership.objects.filter(organization=org, role="admin").count() == 1


def test_management_command_cannot_demote_the_last_admin(org, admin):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="last admin"):
        call_command(
            "add_member", "--org", org.slug, "--email", admin.user.email, "--role", "viewer"
        )
    assert Membership.objects.get(user=admin.user).role == "admin"


# --- who may, and whose ids -----------------------------------------------------------------
@pytest.mark.parametrize("role", ["executive", "account_manager", "project_manager", "viewer"])
def test_other_roles_get_403_everywhere(client, org, make_actor, admin, role):
    someone = make_actor(org, role)
    target = Membership.objects.get(organization=org, user=admin.user)
    invitation, _ = invitation_create(actor=admin, email="p@example.com", role="viewer")
    client.force_login(someone.user)
    assert client.get(MEMBERS).status_code == 403
    assert client.get(reverse("accounts:member_remove", args=[target.pk])).status_code == 403
    for url, data in [
        (reverse("accounts:member_invite"), {"email": "z@example.com", "role": "admin"}),
        (reverse("accounts:member_role", args=[target.pk]), {"role": "viewer"}),
        (reverse("accounts:member_remove", args=[target.pk]), {}),
        (reverse("accounts:invitation_revoke", args=[invitation.pk]), {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert Membership.objects.get(pk=target.pk).role == "admin"
    assert Invitation.objects.for_organization(org).get().revoked_at is None
    assert Invitation.objects.for_organization(org).count() == 1
    nav = client.get(reverse("home")).content.decode()
    assert 'data-nav="members"' not in nav and 'data-nav="api_keys"' not in nav
    with pytest.raises(PermissionDeniedError):
        invitation_create(actor=someone, email="q@example.com", role="admin")
    with pytest.raises(PermissionDeniedError):
        invitation_revoke(actor=someone, invitation_id=invitation.pk)


def test_another_organizations_ids_are_404(http, org, other_admin, other_org, make_actor):
    theirs = make_actor(other_org, Role.VIEWER)
    their_membership = Membership.objects.get(organization=other_org, user=theirs.user)
    their_invitation, _ = invitation_create(actor=other_admin, email="o@example.com", role="viewer")
    assert (
        http.get(reverse("accounts:member_remove", args=[their_membership.pk])).status_code == 404
    )
    assert (
        http.post(
            reverse("accounts:member_role", args=[their_membership.pk]), {"role": "admin"}
        ).status_code
        == 404
    )
    assert (
        http.post(reverse("accounts:member_remove", args=[their_membership.pk])).status_code == 404
    )
    assert (
        http.post(reverse("accounts:invitation_revoke", args=[their_invitation.pk])).status_code
        == 404
    )
    their_membership.refresh_from_db()
    their_invitation.refresh_from_db()
    assert their_membership.role == "viewer" and their_invitation.revoked_at is None
    page = http.get(MEMBERS).content.decode()
    assert theirs.user.email not in page and "o@example.com" not in page


def test_members_page_nav_and_htmx_partial(http, org):
    nav = http.get(reverse("home")).content.decode()
    assert 'data-nav="members"' in nav and 'data-nav="api_keys"' in nav
    page = http.get(MEMBERS)
    assert page.status_code == 200 and "HX-Request" in page["Vary"]
    partial = http.get(MEMBERS, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert b"<html" not in partial.content and b'data-testid="members-table"' in partial.content


def test_members_page_queries_do_not_grow_with_rows(http, admin, org, make_actor):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(MEMBERS).status_code == 200
        assert writes_of(queries) == []
        return len(queries)

    http.get(reverse("home"))  # the login's bookkeeping: the active organization in the session
    make_actor(org, Role.VIEWER)
    invitation_create(actor=admin, email="i0@example.com", role="viewer")
    few = count()
    for i in range(20):
        make_actor(org, Role.VIEWER)
        invitation_create(actor=admin, email=f"i{i + 1}@example.com", role="viewer")
    assert count() == few


def test_accept_page_get_writes_nothing(client, admin):
    _, token = invitation_create(actor=admin, email="look@example.com", role="viewer")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(accept_url(token)).status_code == 200
    assert writes_of(queries) == []
