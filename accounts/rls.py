"""Row-level security on PostgreSQL: the database's backstop under the application's scoping.

Every table with an `organization_id` column has RLS enabled and forced, with one policy:
a row is visible (and may be written) only when its organization is the one named by the
transaction-local setting `cdmo.organization_id`, or when `cdmo.all_organizations` is `on`
(the explicit cross-organization path, `accounts.tenancy.all_organizations_dangerously`).
No setting, no rows. The settings are set with `set_config(..., true)`, i.e. `SET LOCAL`:
they end with the transaction, so a pooler in transaction mode cannot carry one request's
organization into another's.

How the setting gets there: a connection wrapper (`execute_wrapper`, installed on every
PostgreSQL connection) reads the current scope (`accounts.tenancy.current_scope`) and, at the
first statement of each transaction (or when the scope changed inside one), sets it; a
statement outside any transaction (autocommit) runs in a short transaction of its own with
the setting. Every tenant table's `organization_id` is NOT NULL (e-mails to people outside
any organization wait in a table of their own, `accounts_personaloutbox`, which has no
`organization_id` and so no policy), so the policy has no NULL case: a row is written under
the same rule it is read by.

Roles: the app connects as a role that owns no table and cannot bypass RLS (`DATABASE_URL`);
`migrate` connects as the owner (`DATABASE_OWNER_URL`), and after every migration
`database_guards_apply` (re)applies the policies to every tenant table found in the catalog,
grants the app role what it needs (no TRUNCATE: it ignores RLS) and installs the trigger that
makes the audit journal append-only. SQLite has none of this: the application's scoping
(`accounts.tenancy`) stands alone there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.signals import connection_created
from psycopg2 import sql as pgsql

from accounts.tenancy import ALL_ORGANIZATIONS, NO_ORGANIZATION, current_scope

log = logging.getLogger(__name__)

SETTING_ORGANIZATION = "cdmo.organization_id"
SETTING_ALL = "cdmo.all_organizations"
SETTING_DELETING = "cdmo.deleting_organization"
POLICY = "cdmo_tenant_isolation"
AUDIT_TABLE = "accounts_auditevent"
AUDIT_TRIGGER = "cdmo_audit_append_only"

_VISIBLE = (
    f"organization_id = NULLIF(current_setting('{SETTING_ORGANIZATION}', true), '')::bigint"
    f" OR current_setting('{SETTING_ALL}', true) = 'on'"
)
_SET = "SELECT set_config(%s, %s, true), set_config(%s, %s, true)"


def _wanted() -> tuple[str, str]:
    scope = current_scope()
    if scope == ALL_ORGANIZATIONS:
        return "", "on"
    if scope == NO_ORGANIZATION:
        return "", ""
    return str(int(scope)), ""


def _apply(execute, context, wanted: tuple[str, str]) -> None:
    # On the driver's cursor itself: the setting is the connection's business, not a query of
    # the page (wrappers that count or log a page's queries never see it).
    raw = context["cursor"].cursor
    if raw.name is not None:
        # A server-side cursor (`QuerySet.iterator()`) runs exactly one statement, its query:
        # the setting goes through an ordinary cursor of the same connection.
        with context["connection"].connection.cursor() as plain:
            plain.execute(_SET, [SETTING_ORGANIZATION, wanted[0], SETTING_ALL, wanted[1]])
    else:
        raw.execute(_SET, [SETTING_ORGANIZATION, wanted[0], SETTING_ALL, wanted[1]])
    context["connection"].rls_applied = wanted


def scope_wrapper(execute, sql, params, many, context):
    """Every statement runs under the current scope's settings (see the module docstring)."""
    conn = context["connection"]
    if getattr(conn, "rls_busy", False):
        return execute(sql, params, many, context)
    wanted = _wanted()
    conn.rls_busy = True
    try:
        if conn.get_autocommit():
            if wanted == ("", ""):
                # Nothing to set: no setting outlives its transaction, so none is in force.
                conn.rls_busy = False
                return execute(sql, params, many, context)
            with transaction.atomic(using=conn.alias):
                _apply(execute, context, wanted)
                conn.rls_busy = False
                return execute(sql, params, many, context)
        import psycopg2.extensions as ext

        fresh = conn.connection.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
        if fresh or getattr(conn, "rls_applied", None) != wanted:
            _apply(execute, context, wanted)
        conn.rls_busy = False
        return execute(sql, params, many, context)
    finally:
        conn.rls_busy = False


def install(sender, connection, **kwargs) -> None:
    """connection_created: every PostgreSQL connection to a configured database carries the
    scope wrapper (not the maintenance connection that creates and drops test databases)."""
    if (
        connection.vendor == "postgresql"
        and connection.alias in settings.DATABASES
        and scope_wrapper not in connection.execute_wrappers
    ):
        connection.execute_wrappers.append(scope_wrapper)


def connect() -> None:
    connection_created.connect(install, dispatch_uid="accounts.rls.install")
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            install(None, conn)


# --- Roles ---------------------------------------------------------------------------------
def app_role() -> str:
    """The role the app connects as when a separate owner runs migrations ('' otherwise)."""
    return settings.DATABASE_APP_ROLE


@contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    """Connect as the owner (`DATABASE_OWNER_URL`) for the block: migrations. A no-op when
    no owner is configured (one role does everything, as in development)."""
    owner = settings.DATABASE_OWNER
    conn = connections[alias]
    if not owner or conn.vendor != "postgresql":
        yield
        return
    saved = {k: conn.settings_dict.get(k) for k in ("USER", "PASSWORD")}
    conn.close()
    conn.settings_dict.update({"USER": owner["USER"], "PASSWORD": owner.get("PASSWORD", "")})
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict.update(saved)


# --- The guards, applied after every migration ---------------------------------------------
def tenant_tables(cursor) -> list[str]:
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
          AND a.attname = 'organization_id' AND NOT a.attisdropped
        ORDER BY c.relname
        """
    )
    return [row[0] for row in cursor.fetchall()]


def database_guards_apply(using: str = "default") -> list[str]:
    """Row-level security on every tenant table, the app role's grants, the append-only audit
    trigger. Idempotent; runs after every `migrate` (post_migrate). Returns the tables."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        return []
    with conn.cursor() as cursor:
        tables = tenant_tables(cursor)
        for table in tables:
            name = pgsql.Identifier(table)
            cursor.execute(pgsql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(name))
            cursor.execute(pgsql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(name))
            cursor.execute(
                pgsql.SQL("DROP POLICY IF EXISTS {} ON {}").format(pgsql.Identifier(POLICY), name)
            )
            cursor.execute(
                pgsql.SQL(
                    "CREATE POLICY {} ON {} USING (" + _VISIBLE + ") WITH CHECK (" + _VISIBLE + ")"
                ).format(pgsql.Identifier(POLICY), name)
            )
        _audit_trigger(cursor)
        role = app_role()
        if role:
            ident = pgsql.Identifier(role)
            cursor.execute(pgsql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
            cursor.execute(
                pgsql.SQL(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
                ).format(ident)
            )
            cursor.execute(
                pgsql.SQL(
                    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}"
                ).format(ident)
            )
    return tables


def _audit_trigger(cursor) -> None:
    """The audit journal refuses UPDATE and DELETE, except the DELETE of an organization's
    whole journal while that organization is being deleted (`organization_delete` sets
    `cdmo.deleting_organization` for its transaction)."""
    cursor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {AUDIT_TRIGGER}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE'
             AND current_setting('{SETTING_DELETING}', true) = OLD.organization_id::text THEN
            RETURN OLD;
          END IF;
          RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    cursor.execute(f"DROP TRIGGER IF EXISTS {AUDIT_TRIGGER} ON {AUDIT_TABLE}")
    cursor.execute(
        f"CREATE TRIGGER {AUDIT_TRIGGER} BEFORE UPDATE OR DELETE ON {AUDIT_TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION {AUDIT_TRIGGER}()"
    )


def deleting_organization(organization_id: int, using: str = "default") -> None:
    """Inside the transaction that deletes an organization: its audit journal may go too."""
    conn = connections[using]
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT set_config(%s, %s, true)", [SETTING_DELETING, str(organization_id)]
            )


def _owns_schema(using: str) -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = %s",
            [AUDIT_TABLE],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def post_migrate(sender, using: str = "default", **kwargs) -> None:
    # `flush` (the transactional tests) sends post_migrate too, as the app role: only the
    # owner (re)applies the guards, which a real migration always is.
    if (
        sender.name == "accounts"
        and connections[using].vendor == "postgresql"
        and _owns_schema(using)
    ):
        database_guards_apply(using)
