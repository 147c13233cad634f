"""Time each statement of the metrics engine (`metrics.engine.statements`), summed over the
organizations, in one rolled-back transaction per organization; and a benchmark-only rewrite
of `repeat_business_rate`, checked to give the same rows.

The rewrite: instead of an EXISTS per (completion x dimension) row (a correlated subplan
that scans every won decision each time, so quadratic in the organization's size), one
window over each client's completions and won decisions in time order gives every
completion the client's next win; the completed project's own decision precedes its
completion, so that next win is always another project's, and a win at the very instant of
the completion sorts before it ("after" is strict). One sort instead of a nested loop; the
same SQL runs on SQLite.

    python -m bench.statements [--timeout 300] [--explain NAME --org SLUG]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict

EXPERIMENT = "repeat_business_rate (window)"


def repeat_business_window(d) -> str:
    from metrics import engine

    t = engine._tables()
    ctes = engine.common_ctes(d)
    f = d.as_float
    year_us = 365 * engine.DAY_US
    return engine._insert(f"""
    WITH {ctes},
    events AS (
        SELECT l.project_id, p.client_id, l.left_at AS at, 1 AS is_completion
          FROM leaves l JOIN {t["project"]} p ON p.id = l.project_id
         WHERE l.phase = 'close_out' AND l.kind = 'completed'
        UNION ALL
        SELECT w.project_id, q.client_id, w.at, 0
          FROM decisions w JOIN {t["project"]} q ON q.id = w.project_id
         WHERE w.won = 1
    ),
    ordered AS (
        SELECT project_id, at, is_completion,
               MIN(CASE WHEN is_completion = 0 THEN at END)
                   OVER (PARTITION BY client_id ORDER BY at DESC, is_completion DESC
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS next_win
          FROM events
    ),
    completions AS (
        SELECT project_id, at,
               CASE WHEN next_win IS NOT NULL AND {d.diff_us("next_win", "at")} <= {year_us}
                    THEN 1 ELSE 0 END AS is_repeat,
               CASE WHEN {d.diff_us("%(now)s", "at")} < {year_us} THEN 1 ELSE 0 END AS window_open
          FROM ordered WHERE is_completion = 1
    )
    SELECT 'repeat_business_rate' AS key, pd.dimension, pd.dimension_value,
           {d.month("cp.at")} AS period,
           {f("SUM(cp.is_repeat)")} / COUNT(*) AS value, {f("SUM(cp.is_repeat)")} AS numerator,
           {f("COUNT(*)")} AS denominator, COUNT(*) AS n,
           MAX(cp.window_open) AS provisional
      FROM completions cp JOIN pdims pd ON pd.project_id = cp.project_id
     GROUP BY pd.dimension, pd.dimension_value, {d.month("cp.at")}""")


def _rows(cursor, org_id: int, key: str) -> list[tuple]:
    cursor.execute(
        "SELECT dimension, dimension_value, period, value, numerator, denominator, n, "
        "provisional FROM metrics_metricresult WHERE organization_id = %s AND key = %s "
        "ORDER BY dimension, dimension_value, period",
        [org_id, key],
    )
    return cursor.fetchall()


def measure(timeout_s: int) -> dict[str, float | None]:
    import datetime as dt

    from django.db import connection, transaction

    from accounts.models import Organization
    from metrics import engine

    d = engine.dialect()
    now = dt.datetime.now(dt.UTC)
    statements = list(engine.statements(d))
    try:  # built on the engine's CTEs; skipped if the engine no longer has them
        statements.append((EXPERIMENT, repeat_business_window(d)))
    except (AttributeError, TypeError) as exc:
        print(f"experiment skipped: {exc}", file=sys.stderr)
    totals: dict[str, float | None] = defaultdict(float)
    mismatches = []
    for org in Organization.objects.order_by("slug"):
        params = {
            "org": org.pk,
            "now": connection.ops.adapt_datetimefield_value(now),
            "now_month": now.strftime("%Y-%m"),
        }
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM metrics_metricresult WHERE organization_id = %s", [org.pk])
            reference = None
            for name, sql in statements:
                if totals[name] is None:
                    continue  # timed out for a smaller organization already
                if name == EXPERIMENT:
                    reference = _rows(cursor, org.pk, "repeat_business_rate")
                    cursor.execute(
                        "DELETE FROM metrics_metricresult WHERE organization_id = %s AND key = %s",
                        [org.pk, "repeat_business_rate"],
                    )
                sid = transaction.savepoint()
                if connection.vendor == "postgresql":
                    cursor.execute(f"SET LOCAL statement_timeout = '{int(timeout_s)}s'")
                started = time.monotonic()
                try:
                    cursor.execute(sql, params)
                except Exception as exc:  # the statement timeout
                    transaction.savepoint_rollback(sid)
                    totals[name] = None
                    print(f"{org.slug} {name}: {exc}".strip(), file=sys.stderr)
                    continue
                totals[name] += time.monotonic() - started
                transaction.savepoint_commit(sid)
                if name == EXPERIMENT and reference is not None:
                    got = _rows(cursor, org.pk, "repeat_business_rate")
                    if got != reference:
                        mismatches.append(org.slug)
            transaction.set_rollback(True)
    if mismatches:
        print(f"the rewrite differs for {mismatches}", file=sys.stderr)
        totals[EXPERIMENT + " DIFFERS"] = 0.0
    return dict(totals)


def explain(name: str, slug: str) -> str:
    import datetime as dt

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
    statements = dict([*engine.statements(d), (EXPERIMENT, repeat_business_window(d))])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statements[name], params)
        text = "\n".join(r[0] for r in cursor.fetchall())
        transaction.set_rollback(True)
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--explain")
    parser.add_argument("--org")
    args = parser.parse_args(argv)
    from bench.generate import setup_django

    setup_django()
    if args.explain:
        print(explain(args.explain, args.org))
        return
    json.dump(measure(args.timeout), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
