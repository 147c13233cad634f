"""Benchmark-only experiment: two changes to metrics/engine.py, applied in-process (the engine
itself is not edited here), that make SQLite's figures identical to PostgreSQL's on the
small benchmark. `python -m bench.dump --patched ...` runs with them.

1. Whole seconds on SQLite: `strftime('%s', col)` parses the fraction of a second to
   milliseconds and rounds, so 'HH:MM:59.9996' counts as the next second and a duration
   comes out a whole second off. Take the seconds from the first 19 characters only
   ('YYYY-MM-DD HH:MM:SS'); the microseconds still come from the text.
2. Contract values in integer cents: SQLite keeps a decimal column as REAL and sums it with
   rounding errors (client lifetime value numerators a few ULPs off). Summing
   ROUND(value * 100) as an integer and dividing by 100.0 at the end gives, on both
   databases, the double nearest to the exact decimal sum (PostgreSQL's numeric cast).
"""

from __future__ import annotations


def _epoch_us(col: str) -> str:
    return (
        f"(CAST(strftime('%%s', substr({col}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({col} || '.000000', 21, 6) AS INTEGER))"
    )


def apply() -> None:
    from metrics import engine

    engine.Dialect._epoch_us = staticmethod(_epoch_us)
    original = engine.statements

    def statements(d):
        out = []
        for name, sql in original(d):
            if name == "client_lifetime_value":
                real = "double precision" if d.vendor == "postgresql" else "REAL"
                before = sql
                sql = sql.replace(
                    "COALESCE(p.contract_value, 0) AS value",
                    "CAST(ROUND(COALESCE(p.contract_value, 0) * 100) AS BIGINT) AS value",
                )
                sql = sql.replace(
                    f"CAST(total AS {real}) / clients AS value, CAST(total AS {real}) AS numerator",
                    f"(CAST(total AS {real}) / 100.0) / clients AS value, "
                    f"CAST(total AS {real}) / 100.0 AS numerator",
                )
                if sql.count("100.0") != before.count("100.0") + 2:
                    raise RuntimeError(
                        "the engine's CLV statement changed; update bench/patches.py"
                    )
            out.append((name, sql))
        return out

    engine.statements = statements
