"""Read the engine's stored metric rows and the floor's figures, and compare them row by row.

Rows are keyed by (organization slug, key, dimension, dimension value, period), so results
from different databases (ids differ) can be compared. Counts (n, numerator, denominator)
must be equal; values equal to `REL_TOL` relative (medians and means are doubles computed in
a different order).
"""

from __future__ import annotations

import math
from pathlib import Path

REL_TOL = 1e-9
FLOOR_SQL = Path(__file__).with_name("floor.sql")

Key = tuple[str, str, str, str, str]
Figures = tuple[float, float | None, float | None, int, bool]


def floor_sql() -> str:
    return FLOOR_SQL.read_text()


def _slugs(cursor) -> dict[int, str]:
    cursor.execute("SELECT id, slug FROM accounts_organization")
    return dict(cursor.fetchall())


def engine_rows(cursor) -> dict[Key, Figures]:
    """Every stored metric row of every organization."""
    slugs = _slugs(cursor)
    cursor.execute(
        "SELECT organization_id, key, dimension, dimension_value, period, value, numerator, "
        "denominator, n, provisional FROM metrics_metricresult"
    )
    return _keyed(cursor.fetchall(), slugs)


def floor_rows(cursor, now) -> dict[Key, Figures]:
    """The floor's figures (PostgreSQL only), computed with `now` as the computation time."""
    slugs = _slugs(cursor)
    cursor.execute(floor_sql(), {"now": now})
    return _keyed(cursor.fetchall(), slugs)


def _keyed(rows, slugs) -> dict[Key, Figures]:
    out: dict[Key, Figures] = {}
    for org, key, dim, val, period, value, num, den, n, prov in rows:
        k = (slugs[org], key, dim, val, period)
        if k in out:
            raise AssertionError(f"duplicate row {k}")
        out[k] = (
            float(value),
            None if num is None else float(num),
            None if den is None else float(den),
            int(n),
            bool(prov),
        )
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def compare(
    left: dict[Key, Figures], right: dict[Key, Figures], names=("engine", "floor")
) -> list[str]:
    """Human-readable differences (empty when both sets agree)."""
    diffs = []
    for k in sorted(left.keys() - right.keys()):
        diffs.append(f"only in {names[0]}: {k} {left[k]}")
    for k in sorted(right.keys() - left.keys()):
        diffs.append(f"only in {names[1]}: {k} {right[k]}")
    for k in sorted(left.keys() & right.keys()):
        a, b = left[k], right[k]
        same = (
            _close(a[0], b[0]) and a[1] == b[1] and a[2] == b[2] and a[3] == b[3] and a[4] == b[4]
        )
        if not same:
            diffs.append(f"differs: {k} {names[0]}={a} {names[1]}={b}")
    return diffs


def summarize(diffs: list[str], limit: int = 20) -> str:
    if not diffs:
        return "no differences"
    by_key: dict[str, int] = {}
    for line in diffs:
        kind = line.split(":", 1)[0]
        metric = line.split("'")[3] if line.count("'") >= 4 else "?"
        by_key[f"{kind} {metric}"] = by_key.get(f"{kind} {metric}", 0) + 1
    head = "\n".join(diffs[:limit])
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(by_key.items()))
    return f"{len(diffs)} differences ({counts})\n{head}"
