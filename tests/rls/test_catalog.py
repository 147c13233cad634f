"""The database's own backstop: what the catalog says about every tenant table and the roles."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError

from accounts.models import AuditEvent
from accounts.rls import POLICY, tenant_tables
from accounts.services import organization_delete
from accounts.tenancy import organization_scope
from journey.models import Client
from tests.factories import ClientFactory, OrganizationFactory

pytestmark = pytest.mark.postgres


def test_every_table_with_an_organization_has_rls_enabled_and_forced(requires_rls):
    with connection.cursor() as cursor:
        tables = tenant_tables(cursor)
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relname = ANY(%s)
            """,
            [POLICY, tables],
        )
        rows = cursor.fetchall()
    # Every domain table is there (a tenant table added later is found by the catalog).
    assert {
        "journey_client",
        "journey_project",
        "accounts_membership",
        "accounts_auditevent",
    } <= set(tables)
    assert len(rows) == len(tables) >= 20
    unguarded = [
        name for name, enabled, forced, policy in rows if not (enabled and forced and policy)
    ]
    assert unguarded == []


def test_the_app_role_owns_nothing_and_cannot_bypass(requires_rls):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
            "FROM pg_roles WHERE rolname = current_user"
        )
        user, superuser, bypass, createrole, createdb = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND pg_get_userbyid(c.relowner) = current_user"
        )
        owned = cursor.fetchone()[0]
    assert user == settings.DATABASE_APP_ROLE
    assert (superuser, bypass, createrole, createdb) == (False, False, False, False)
    assert owned == 0


def test_no_scope_no_rows_and_a_scope_shows_only_its_own(requires_rls):
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    ClientFactory(organization=mine, name="Mine")
    ClientFactory(organization=theirs, name="Theirs")

    def names(sql_scope) -> list[str]:
        with sql_scope, connection.cursor() as cursor:
            # Raw SQL with no organization filter at all: only the database can scope it.
            cursor.execute("SELECT name FROM journey_client ORDER BY name")
            return [row[0] for row in cursor.fetchall()]

    assert names(organization_scope(None)) == []
    assert names(organization_scope(mine)) == ["Mine"]
    assert names(organization_scope(theirs)) == ["Theirs"]


def test_a_row_cannot_be_written_into_another_organization(requires_rls):
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    client = ClientFactory(organization=mine)
    with (
        organization_scope(mine),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE journey_client SET organization_id = %s WHERE id = %s",
            [theirs.pk, client.pk],
        )
    with organization_scope(theirs), connection.cursor() as cursor:
        cursor.execute("UPDATE journey_client SET name = 'hijacked' WHERE id = %s", [client.pk])
        assert cursor.rowcount == 0
    client.refresh_from_db()
    assert client.name != "hijacked"


def test_the_audit_journal_refuses_update_and_delete(requires_rls):
    org = OrganizationFactory()
    with organization_scope(org):
        client = ClientFactory(organization=org)
        from accounts.audit import audit_record
        from accounts.permissions import Actor

        audit_record(actor=Actor.system(org), action="create", instance=client, changes={})
        event = AuditEvent.objects.for_organization(org).latest("id")
        for statement in (
            "UPDATE accounts_auditevent SET reason = 'rewritten' WHERE id = %s",
            "DELETE FROM accounts_auditevent WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [event.pk])
        assert AuditEvent.objects.for_organization(org).filter(pk=event.pk, reason="").exists()


def test_deleting_an_organization_takes_its_journal_and_nothing_else(requires_rls):
    doomed, kept = OrganizationFactory(), OrganizationFactory()
    from accounts.audit import audit_record
    from accounts.permissions import Actor

    for org in (doomed, kept):
        with organization_scope(org):
            audit_record(
                actor=Actor.system(org),
                action="create",
                instance=ClientFactory(organization=org),
                changes={},
            )
    organization_delete(organization=doomed)
    with organization_scope(kept):
        assert AuditEvent.objects.for_organization(kept).count() == 1
        assert Client.objects.for_organization(kept).count() == 1
    with organization_scope(doomed.pk), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_auditevent")
        assert cursor.fetchone()[0] == 0
