"""create_org and add_member, exactly as SPEC says, with clear errors."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditEvent, Membership, Organization, User
from engagement.models import Playbook


@pytest.mark.django_db
def test_create_org_creates_the_tenant_and_its_admin(capsys):
    call_command(
        "create_org", "--slug", "acme", "--name", "Acme CDMO", "--admin", "Boss@Acme.example"
    )
    org = Organization.objects.get(slug="acme")
    assert org.name == "Acme CDMO" and org.timezone == "UTC"
    user = User.objects.get(email="boss@acme.example")
    assert not user.has_usable_password()
    assert Membership.objects.get(organization=org, user=user).role == "admin"
    out = capsys.readouterr().out
    assert "Created organization 'acme'" in out and "changepassword boss@acme.example" in out
    assert sorted(
        AuditEvent.objects.for_organization(org).values_list("object_type", flat=True)
    ) == [
        "accounts.membership",
        "accounts.organization",
        # Its default playbooks (settings.ORGANIZATION_SETUP), one per service model.
        "engagement.playbook",
        "engagement.playbook",
    ]
    assert sorted(
        Playbook.objects.for_organization(org).values_list("service_model", flat=True)
    ) == ["consultative", "transactional"]


@pytest.mark.django_db
def test_create_org_reuses_a_known_user_for_a_second_organization():
    call_command("create_org", "--slug", "acme", "--name", "Acme", "--admin", "boss@acme.example")
    call_command(
        "create_org", "--slug", "acme-eu", "--name", "Acme EU", "--admin", "boss@acme.example"
    )
    assert User.objects.filter(email="boss@acme.example").count() == 1
    assert Membership.objects.filter(user__email="boss@acme.example").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "Bad Slug!", "--name", "X", "--admin", "a@b.example"], "Enter a valid “slug”"),
        (
            ["--slug", "ok", "--name", "  ", "--admin", "a@b.example"],
            "The organization needs a name.",
        ),
        (
            ["--slug", "ok", "--name", "X", "--admin", "not-an-email"],
            "'not-an-email' is not a valid e-mail address.",
        ),
        (
            ["--slug", "ok", "--name", "X", "--admin", "a@b.example", "--timezone", "Mars/Olympus"],
            "Unknown time zone 'Mars/Olympus'.",
        ),
    ],
)
def test_create_org_refuses_bad_input_and_creates_nothing(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("create_org", *args)
    assert not Organization.objects.exists() and not User.objects.exists()


@pytest.mark.django_db
def test_create_org_refuses_a_duplicate_slug():
    call_command("create_org", "--slug", "acme", "--name", "Acme", "--admin", "a@acme.example")
    with pytest.raises(
        CommandError, match=re.escape("An organization with slug 'acme' already exists.")
    ):
        call_command("create_org", "--slug", "ACME", "--name", "Other", "--admin", "b@acme.example")
    assert (
        Organization.objects.count() == 1
        and not User.objects.filter(email="b@acme.example").exists()
    )


@pytest.mark.django_db
def test_add_member_adds_and_changes_roles(capsys):
    call_command("create_org", "--slug", "acme", "--name", "Acme", "--admin", "a@acme.example")
    call_command(
        "add_member", "--org", "acme", "--email", "PM@acme.example", "--role", "project_manager"
    )
    assert "New user pm@acme.example is project_manager in 'acme'." in capsys.readouterr().out
    call_command("add_member", "--org", "acme", "--email", "pm@acme.example", "--role", "executive")
    membership = Membership.objects.get(user__email="pm@acme.example")
    assert membership.role == "executive"
    org = Organization.objects.get(slug="acme")
    last = AuditEvent.objects.for_organization(org).order_by("-id").first()
    assert (last.action, last.changes) == ("update", {"role": ["project_manager", "executive"]})


@pytest.mark.django_db
def test_add_member_errors():
    call_command("create_org", "--slug", "acme", "--name", "Acme", "--admin", "a@acme.example")
    with pytest.raises(CommandError, match=re.escape("No organization with slug 'nope'.")):
        call_command("add_member", "--org", "nope", "--email", "x@acme.example", "--role", "viewer")
    with pytest.raises(
        CommandError,
        match=re.escape(
            "Unknown role 'boss'. Choose one of: admin, executive, account_manager, project_manager, viewer."
        ),
    ):
        call_command("add_member", "--org", "acme", "--email", "x@acme.example", "--role", "boss")
    with pytest.raises(CommandError, match="is not a valid e-mail"):
        call_command("add_member", "--org", "acme", "--email", "x", "--role", "viewer")
    assert not User.objects.filter(email="x@acme.example").exists()
