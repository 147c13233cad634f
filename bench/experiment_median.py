"""Benchmark-only experiment (metrics/engine.py is not edited): medians on PostgreSQL with
`percentile_cont(0.5) WITHIN GROUP (ORDER BY x)` instead of the portable ROW_NUMBER/COUNT
windows (SQLite keeps the windows). SPEC defines the median as percentile_cont(0.5).

    python -m bench.experiment_median     # PostgreSQL: times the `durations` statement both
                                          # ways, in rolled-back transactions, and compares
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
import time


def percentile_select(d, samples_cte: str, key_expr: str) -> str:
    return f"""
    {samples_cte}
    SELECT {key_expr} AS key, dimension, dimension_value, period,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS value,
           {d.as_float("NULL")} AS numerator, {d.as_float("NULL")} AS denominator,
           COUNT(*) AS n, 0 AS provisional
      FROM samples GROUP BY key, dimension, dimension_value, period"""


def main(repeat: int = 2) -> None:
    from bench.generate import setup_django

    setup_django()
    from django.db import connection, transaction

    from accounts.models import Organization
    from metrics import engine

    d = engine.dialect()
    if d.vendor != "postgresql":
        raise SystemExit("PostgreSQL only")
    original = engine._median_select
    variants = {"windows (engine)": dict(engine.statements(d))["durations"]}
    engine._median_select = percentile_select
    try:
        variants["percentile_cont"] = dict(engine.statements(d))["durations"]
    finally:
        engine._median_select = original
    now = dt.datetime.now(dt.UTC)
    times: dict[str, list[float]] = {v: [] for v in variants}
    rows: dict[str, list] = {}
    for _ in range(repeat):
        for variant, sql in variants.items():
            spent, got = 0.0, []
            for org in Organization.objects.order_by("slug"):
                params = {
                    "org": org.pk,
                    "now": connection.ops.adapt_datetimefield_value(now),
                    "now_month": now.strftime("%Y-%m"),
                }
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('work_mem', '32MB', true)")
                    cursor.execute(
                        "DELETE FROM metrics_metricresult WHERE organization_id = %s", [org.pk]
                    )
                    started = time.monotonic()
                    cursor.execute(sql, params)
                    spent += time.monotonic() - started
                    cursor.execute(
                        "SELECT key, dimension, dimension_value, period, value, n "
                        "FROM metrics_metricresult WHERE organization_id = %s ORDER BY 1, 2, 3, 4",
                        [org.pk],
                    )
                    got += cursor.fetchall()
                    transaction.set_rollback(True)
            times[variant].append(round(spent, 2))
            rows[variant] = got
    a, b = rows.values()
    same = len(a) == len(b) and all(
        x[:4] == y[:4] and x[5] == y[5] and math.isclose(x[4], y[4], rel_tol=1e-12)
        for x, y in zip(a, b, strict=True)
    )
    bitwise = a == b
    json.dump({"seconds": times, "same rows (1e-12)": same, "bit-identical": bitwise}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
