"""The same metric rows on PostgreSQL and SQLite for the benchmark's small size, and the same
as the floor (bench/floor.sql, an independent hand-written PostgreSQL query).

The small dataset (about 10k journal and event rows, three organizations) is generated into
the PostgreSQL test database and recomputed at a fixed `now`; a subprocess does the same in a
fresh SQLite file and prints its rows (bench/dump.py). Every row must match: key, dimension,
value and period present on both sides, n, numerator and denominator exactly, the value to
1e-9 relative, the provisional flag. The generated journals are first replayed through the
journey rules, so the figures come from data the services could have written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import Organization
from bench.compare import compare, engine_rows, floor_rows, summarize
from bench.generate import check_journals, generate
from metrics.services import metrics_recompute

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="compares with PostgreSQL"),
]


def _sqlite_rows(tmp_path: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'agree.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_DEBUG="1",
        DJANGO_ALLOW_DEV_SECRET="1",
        METRICS_AUTO_RECOMPUTE="0",
    )
    out = subprocess.run(
        [sys.executable, "-m", "bench.dump", "--migrate", "--now", NOW.isoformat()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    rows = json.loads(out.stdout)
    return {tuple(r[:5]): (r[5], r[6], r[7], r[8], r[9]) for r in rows}


@pytest.mark.django_db
def test_postgresql_sqlite_and_the_floor_agree_on_the_small_benchmark(tmp_path):
    info = generate(size="small")
    assert 9_000 <= info["events"] <= 12_000
    assert set(info["kinds"]) == {
        "opened",
        "won",
        "lost",
        "advanced",
        "completed",
        "cancelled",
        "on_hold",
        "resumed",
        "corrected",
    }
    assert check_journals() == []

    written = 0
    for org in Organization.objects.filter(slug__in=info["organizations"]).order_by("slug"):
        written += metrics_recompute(organization=org, now=NOW)
    with connection.cursor() as cursor:
        postgresql = engine_rows(cursor)
        floor = floor_rows(cursor, NOW)
    assert len(postgresql) == written > 10_000
    # Every metric and dimension has figures, so the comparison covers them all.
    assert {k[1] for k in postgresql} >= {
        "time_to_decision_days",
        "win_rate",
        "phase_duration_days.assess",
        "phase_duration_days.close_out",
        "time_to_kickoff_days",
        "on_time_milestone_rate",
        "csat_avg",
        "nps",
        "touchpoints_per_active_client",
        "senior_touch_rate",
        "repeat_business_rate",
        "client_lifetime_value",
    }
    assert {k[2] for k in postgresql} == {
        "overall",
        "segment",
        "service_model",
        "modality",
        "project_manager",
        "account_manager",
    }

    diffs = compare(postgresql, floor, names=("engine", "floor"))
    assert not diffs, summarize(diffs)

    sqlite = _sqlite_rows(tmp_path)
    diffs = compare(postgresql, sqlite, names=("postgresql", "sqlite"))
    assert not diffs, summarize(diffs)
