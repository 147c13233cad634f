"""The schema can be distributed by organization (Citus row-based sharding): every tenant
table (one with `organization_id`) has it NOT NULL, and every unique constraint or index of a
tenant table includes it. The PostgreSQL catalog of the migrated test database is the
authority; the models are checked too, so SQLite runs catch a new constraint early."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

# The same query as the team's scale-ready tool: one line per problem.
PROBLEMS = """
with t as (
  select c.oid, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind = 'r'
    and exists (select 1 from pg_attribute a where a.attrelid = c.oid
                and a.attname = 'organization_id' and not a.attisdropped))
select t.relname || ': unique index ' || i.indexrelid::regclass || ' lacks organization_id'
from t join pg_index i on i.indrelid = t.oid
where i.indisunique and not i.indisprimary
  and not exists (select 1 from pg_attribute a where a.attrelid = t.oid
                  and a.attname = 'organization_id' and a.attnum = any(i.indkey))
union all
select t.relname || ': organization_id is nullable'
from t join pg_attribute a on a.attrelid = t.oid
where a.attname = 'organization_id' and not a.attnotnull
"""

TENANT_TABLES = """
select c.relname from pg_attribute a
join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind = 'r'
  and a.attname = 'organization_id' and not a.attisdropped
order by c.relname
"""

UNIQUE_INDEXES = """
select c.relname, i.indexrelid::regclass::text from pg_index i
join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and i.indisunique and not i.indisprimary
  and exists (select 1 from pg_attribute a where a.attrelid = c.oid
              and a.attname = 'organization_id' and not a.attisdropped)
"""

MIN_TENANT_TABLES = 17


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads the PostgreSQL catalog")
@pytest.mark.django_db
def test_every_tenant_table_is_keyed_by_organization_in_the_catalog():
    with connection.cursor() as cursor:
        cursor.execute(TENANT_TABLES)
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(UNIQUE_INDEXES)
        unique_indexes = cursor.fetchall()
        cursor.execute(PROBLEMS)
        problems = [row[0] for row in cursor.fetchall()]
    # Not vacuous: the tenant tables are there, with unique indexes to check.
    assert len(tables) >= MIN_TENANT_TABLES, tables
    assert {"journey_project", "journey_surveylink", "accounts_apikey"} <= set(tables)
    assert len(unique_indexes) >= 10, unique_indexes
    assert ("accounts_apikey", "accounts_apikey_prefix_uniq") in unique_indexes
    assert problems == []


def _tenant_models() -> list[type[models.Model]]:
    out = []
    for model in apps.get_models():
        try:
            field = model._meta.get_field("organization")
        except Exception:  # noqa: S112 - no such field: not a tenant model
            continue
        if field.concrete and field.column == "organization_id":
            out.append(model)
    return out


def _names_organization(constraint: models.UniqueConstraint) -> bool:
    if "organization" in constraint.fields:
        return True
    return any(
        isinstance(expr, models.F) and expr.name == "organization"
        for expr in constraint.expressions
    )


@pytest.mark.django_db
def test_every_unique_constraint_of_a_tenant_model_includes_the_organization():
    tenant_models = _tenant_models()
    assert len(tenant_models) >= MIN_TENANT_TABLES
    problems, checked = [], 0
    for model in tenant_models:
        label = model._meta.label
        if model._meta.get_field("organization").null:
            problems.append(f"{label}: organization is nullable")
        for field in model._meta.concrete_fields:
            if field.unique and not field.primary_key:
                problems.append(f"{label}.{field.name}: unique=True without the organization")
        for together in model._meta.unique_together:
            checked += 1
            if "organization" not in together:
                problems.append(f"{label}: unique_together {together} lacks the organization")
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                checked += 1
                if not _names_organization(constraint):
                    problems.append(f"{label}: {constraint.name} lacks the organization")
    assert checked >= 10
    assert problems == []
