"""The migrations that key the schema by organization keep every row, both ways.

The demo organization is seeded at the latest schema, the database is migrated back to the
schema before the change (accounts 0001, journey 0003, metrics 0001, no engagement app: its
0001 only moved models in Django's state, the tables stay), every table is counted, and the
database is migrated forward again: every table has the same rows, and the organization got
a new public id. Runs on SQLite and PostgreSQL; the database is left at the latest migrations
whatever happens, so the tests after this one are unaffected.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import ApiKey, Organization, is_public_id
from accounts.permissions import Actor
from accounts.rls import app_role, as_owner, database_guards_apply
from accounts.services import api_key_authenticate, api_key_create, organization_create
from accounts.tenancy import all_organizations_dangerously
from engagement.demo import demo_seed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BEFORE = [
    ("accounts", "0001_initial"),
    ("journey", "0003_alert_senior_leader"),
    ("metrics", "0001_initial"),
    ("engagement", None),
]
# The tables the demo fills and this change touches: they must hold rows to prove anything.
MAIN_TABLES = [
    "accounts_organization",
    "accounts_apikey",
    "accounts_auditevent",
    "journey_client",
    "journey_contact",
    "journey_project",
    "journey_phasetransition",
    "journey_milestone",
    "journey_feedback",
    "journey_alert",
    "journey_surveylink",
    "journey_clienthealthsnapshot",
]
# Django's record of the applied migrations is what changes, by design.
NOT_DATA = {"django_migrations"}
TODAY = dt.date(2026, 6, 30)


# The models that moved from journey to engagement (their content types follow them).
NEW_TABLES = {"engagement_clienthealthcurrent"}
MOVED = ["surveylink", "engagementsettings", "playbook", "alert", "clienthealthsnapshot"]


def migrate(targets: list[tuple[str, str | None]] | None = None) -> None:
    """Migrate to `targets` (None: the latest of every app), as `manage.py migrate` would."""
    # As `manage.py migrate` does: as the owner (the app role owns no table), seeing every
    # organization, and re-applying the row-level security guards and grants afterwards.
    with as_owner(), all_organizations_dangerously("test: migrating back and forth"):
        executor = MigrationExecutor(connection)
        if targets is None:
            targets = executor.loader.graph.leaf_nodes()
        executor.migrate(targets)
        database_guards_apply()
        if app_role():  # as the suite's set-up does: tables come back, so does TRUNCATE
            with connection.cursor() as cursor:
                cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{app_role()}"')


def applied() -> set[tuple[str, str]]:
    return set(MigrationExecutor(connection).recorder.applied_migrations())


def row_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table in NOT_DATA:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, table)}


def test_migrating_back_and_forth_keeps_every_row():
    result = demo_seed(slug="migrated", today=TODAY)
    org = result.organization
    _key, new_raw = api_key_create(actor=Actor.system(org), name="ERP sync", scope="read")
    # A key issued before keys carried the public id, as it was stored then.
    legacy_raw = "cdmo_0a1b2c3d4e5f_legacy-secret_with_underscores_0123456789abcdefgh"
    ApiKey.objects.create(
        organization=org,
        name="Old BI export",
        prefix="0a1b2c3d4e5f",
        key_hash=hashlib.sha256(legacy_raw.encode()).hexdigest(),
    )
    # A second organization: the backfill must give each its own public id.
    organization_create(slug="second", name="Second CDMO", admin_email="admin@second.example")
    latest = applied()
    at_latest = row_counts()
    try:
        migrate(BEFORE)
        assert ("accounts", "0002_organization_public_id_apikey_prefix_per_org") not in applied()
        assert not any(app == "engagement" for app, _name in applied())
        assert "public_id" not in columns("accounts_organization")
        assert not ContentType.objects.filter(app_label="engagement", model__in=MOVED).exists()
        at_old_schema = row_counts()
    finally:
        migrate()
    assert applied() == latest
    assert "public_id" in columns("accounts_organization")
    after = row_counts()

    # Tables created after the refactoring's base (their rows are derived: the stored
    # health) do not exist at the old schema; every other table keeps every row.
    new = set(at_latest) - set(at_old_schema)
    # Tables added since (later features) come and go with their migrations; the moved
    # models kept their tables, so none of theirs is new.
    assert new >= NEW_TABLES
    assert not new & {f"engagement_{m}" for m in MOVED}
    assert set(at_old_schema) == set(at_latest) - new == set(after) - new
    assert {t: n for t, n in after.items() if t not in new} == at_old_schema
    assert {t: n for t, n in at_latest.items() if t not in new} == at_old_schema
    empty = [t for t in MAIN_TABLES if not after[t]]
    assert empty == [], f"the demo left these empty, so the round trip proves nothing: {empty}"
    assert (after["accounts_apikey"], after["accounts_organization"]) == (2, 2)

    # The moved models' content types went back to journey and came forward again.
    assert set(
        ContentType.objects.filter(app_label="engagement", model__in=MOVED).values_list(
            "model", flat=True
        )
    ) == set(MOVED)

    org, second = Organization.objects.get(slug="migrated"), Organization.objects.get(slug="second")
    assert is_public_id(org.public_id) and is_public_id(second.public_id)
    assert org.public_id != second.public_id
    # Keys issued before the public id still work; a new key names the public id the
    # organization had before the way back, which the backfill replaced.
    assert api_key_authenticate(legacy_raw).organization == org
    assert api_key_authenticate(new_raw) is None
