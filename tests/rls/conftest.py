from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection


def rls_enforced() -> bool:
    """PostgreSQL, connected as a role that owns no table and cannot bypass RLS."""
    if connection.vendor != "postgresql" or not settings.DATABASE_OWNER:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        return not cursor.fetchone()[0]


@pytest.fixture
def requires_rls(db):
    if not rls_enforced():
        pytest.skip(
            "needs PostgreSQL with DATABASE_OWNER_URL (migrate as the owner) and DATABASE_URL "
            "as an app role without BYPASSRLS, as .ci/run sets them"
        )
