"""Time each statement of the metrics engine, summed over the organizations.

Runs the engine's own `engine.recompute` for every organization, each in a transaction that
is rolled back, and times every SQL statement it sends (a Django execute wrapper), so the
figures follow whatever the engine does (its DELETE, its settings, its INSERT ... SELECTs).
Statements are named after `metrics.engine.statements`.

    python -m bench.statements                      # JSON {statement: seconds}
    python -m bench.statements --explain touchpoints --org bench-large-a
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections import defaultdict


def _name(sql: str, names: dict[str, str]) -> str:
    if sql in names:
        return names[sql]
    head = " ".join(sql.split()).upper()
    if head.startswith("DELETE FROM"):
        return "delete old rows"
    if "SET_CONFIG" in head or head.startswith("SET "):
        return "settings"
    if "METRICS_SHARED_" in head:
        return "shared tables"
    return "other"


def measure() -> dict[str, float]:
    from django.db import connection, transaction

    from accounts.models import Organization
    from metrics import engine

    names = {sql: name for name, sql in engine.statements(engine.dialect())}
    totals: dict[str, float] = defaultdict(float)

    def timed(execute, sql, params, many, context):
        started = time.monotonic()
        try:
            return execute(sql, params, many, context)
        finally:
            totals[_name(sql, names)] += time.monotonic() - started

    now = dt.datetime.now(dt.UTC)
    for org in Organization.objects.order_by("slug"):
        with transaction.atomic(), connection.execute_wrapper(timed):
            engine.recompute(organization_id=org.pk, now=now)
            transaction.set_rollback(True)
    return dict(totals)


def explain(name: str, slug: str) -> str:
    from django.conf import settings
    from django.db import connection, transaction

    from accounts.models import Organization
    from metrics import engine

    d = engine.dialect()
    now = dt.datetime.now(dt.UTC)
    org = Organization.objects.get(slug=slug)
    params = {
        "org": org.pk,
        "now": connection.ops.adapt_datetimefield_value(now),
        "now_month": now.strftime("%Y-%m"),
    }
    sql = dict(engine.statements(d))[name]
    with transaction.atomic(), connection.cursor() as cursor:
        work_mem = getattr(settings, "METRICS_PG_WORK_MEM", "")
        if work_mem:  # as the engine's recompute sets it
            cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        cursor.execute("DELETE FROM metrics_metricresult WHERE organization_id = %s", [org.pk])
        for shared in engine.shared_tables_sql(d):  # what the statements read
            cursor.execute(shared, params)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        text = "\n".join(r[0] for r in cursor.fetchall())
        transaction.set_rollback(True)
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--explain", help="EXPLAIN ANALYZE this statement (PostgreSQL)")
    parser.add_argument("--org", help="organization slug for --explain")
    args = parser.parse_args(argv)
    from bench.generate import setup_django

    setup_django()
    if args.explain:
        print(explain(args.explain, args.org))
        return
    json.dump(measure(), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
