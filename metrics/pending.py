"""The one waiting metrics refresh per organization, and how far back it must reach.

A change asks for a refresh in its own transaction: an outbox row (`accounts.outbox`) with
the key `DEDUPE_KEY` and the reach of the change. Rows that wait together merge into one
refresh reaching back to the earliest of them: in one transaction into one row, across
transactions when the first is delivered (it absorbs the others, `merge_reach`), and a row
whose key already has one handed over is not handed again. The refresh is handed over
`METRICS_COALESCE_SECONDS` after the first change, so a burst of changes costs a handful of
recomputes. Every change is either inside the reach of a refresh that was handed after it
committed, or waits in its own row for the next one; nothing lives outside the database, so
neither a broker outage nor a restart loses a change.

A reach is microseconds since the epoch; `FULL` (-1) reaches everything.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.outbox import merge_rule

FULL = -1
DEDUPE_KEY = "metrics-recompute"
TASK = "metrics.tasks.metrics_recompute_task"


def reach_of(since: dt.datetime | None) -> int:
    if since is None:
        return FULL
    return int(since.timestamp() * 1_000_000)


def since_of(reach: int | None) -> dt.datetime | None:
    if reach is None or reach == FULL:
        return None
    return dt.datetime.fromtimestamp(reach / 1_000_000, tz=dt.UTC)


@merge_rule(TASK)
def merge_reach(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two waiting refreshes are one reaching back to the earlier change (a full one wins)."""
    reaches = [k.get("reach", FULL) for k in (first, second)]
    return {**first, "reach": FULL if FULL in reaches else min(reaches)}
