"""Benchmark-only experiment (metrics/engine.py is not edited): the start of the stay a move
ends, by a window instead of the `stays` self-join.

The engine numbers the stays of each project (a running count of entering moves), groups
them (`stays`) and joins every journal row back to its stay on (project, stay). On SQLite
that join is a nested loop over the materialized `stays` for every journal row (EXPLAIN
QUERY PLAN: "SCAN j / SCAN s", no automatic index), so it grows with the square of an
organization's journal. The rewrite reads the same time off the journal in one window pass:
the latest entering move before the current row,

    MAX(CASE WHEN enters = 1 THEN at END) OVER (PARTITION BY project_id ORDER BY seq
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)

which is the first (= earliest, times never decrease) move of the stay the row ends. Both
engines support it. `python -m bench.experiment_stays` times every engine statement with
and without the rewrite, in rolled-back transactions, and checks the rows are identical.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

STAYS = """    stays AS {m} (
        SELECT project_id, stay, MIN(at) AS entered_at FROM journal GROUP BY project_id, stay
    ),"""
JOIN_FROM = """               j.at AS left_at, s.entered_at,"""
JOIN_TO = """               j.at AS left_at, j.stay_start AS entered_at,"""
JOIN_ON = """          JOIN stays s ON s.project_id = j.project_id AND s.stay = j.stay - j.enters
"""
JOURNAL_FROM = """                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS stay
"""
JOURNAL_TO = """                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS stay,
               MAX(CASE WHEN tr.from_phase IS NULL OR tr.from_phase <> tr.to_phase
                        THEN tr.at END)
                   OVER (PARTITION BY tr.project_id ORDER BY tr.seq
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS stay_start
"""


def rewritten(sql: str, d) -> str:
    stays = STAYS.format(m=d.materialized)
    for old in (stays, JOIN_FROM, JOIN_ON, JOURNAL_FROM):
        if old in sql:
            continue
        if old in (JOIN_FROM, JOIN_ON, stays) and "leaves_all" not in sql:
            continue
        raise RuntimeError(f"the engine changed; update bench/experiment_stays.py: {old!r}")
    return (
        sql.replace(stays, "")
        .replace(JOIN_FROM, JOIN_TO)
        .replace(JOIN_ON, "")
        .replace(JOURNAL_FROM, JOURNAL_TO)
    )


def main() -> None:
    from bench.generate import setup_django

    setup_django()
    from django.db import connection, transaction

    from accounts.models import Organization
    from metrics import engine

    d = engine.dialect()
    variants = {
        "engine": list(engine.statements(d)),
        "window": [(n, rewritten(s, d)) for n, s in engine.statements(d)],
    }
    now = dt.datetime.now(dt.UTC)
    totals: dict[str, dict[str, float]] = {v: {} for v in variants}
    rows: dict[str, list] = {v: [] for v in variants}
    for org in Organization.objects.order_by("slug"):
        params = {
            "org": org.pk,
            "now": connection.ops.adapt_datetimefield_value(now),
            "now_month": now.strftime("%Y-%m"),
        }
        for variant, statements in variants.items():
            with transaction.atomic(), connection.cursor() as cursor:
                if d.vendor == "postgresql":
                    cursor.execute("SELECT set_config('work_mem', '32MB', true)")
                cursor.execute(
                    "DELETE FROM metrics_metricresult WHERE organization_id = %s", [org.pk]
                )
                for name, sql in statements:
                    started = time.monotonic()
                    cursor.execute(sql, params)
                    spent = time.monotonic() - started
                    totals[variant][name] = totals[variant].get(name, 0.0) + spent
                cursor.execute(
                    "SELECT key, dimension, dimension_value, period, value, numerator, "
                    "denominator, n, provisional FROM metrics_metricresult "
                    "WHERE organization_id = %s ORDER BY 1, 2, 3, 4",
                    [org.pk],
                )
                rows[variant].append(cursor.fetchall())
                transaction.set_rollback(True)
    out = {v: {k: round(s, 2) for k, s in t.items()} for v, t in totals.items()}
    for v in out:
        out[v]["total"] = round(sum(totals[v].values()), 2)
    out["identical rows"] = rows["engine"] == rows["window"]
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
