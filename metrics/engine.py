"""The metrics engine: every SPEC metric as set-based SQL over the journal and event tables.

Each metric is one `INSERT ... SELECT` that computes all its dimensions and months at once
(GROUP BY and window functions; no Python loop over events). The same SQL runs on
PostgreSQL and SQLite; the few dialect differences (month of a timestamp, exact differences
of timestamps, the UTC date) are the functions of `Dialect`. Medians are taken with window
functions (row number and count per group, mean of the middle one or two), which is
`percentile_cont(0.5)` on both engines, so both give identical figures.

Definitions (SPEC, "Metrics"), with the readings taken where SPEC leaves room:
- A phase stay is `journey.stays` (one definition for the project page, this engine and the
  playbooks): a stay starts with the latest move into the phase (`stay_start_sql`) and is
  left by the forward move out of it (`leave_sql`): won/advanced, an admin's correction to a
  later phase, `lost` out of assess, `completed` out of close-out. Cancellation, holds and
  resumes leave nothing (time on hold counts in the phase). A project counts once per phase:
  its first leave of it, measured from the entry into the stay that leave ends.
- The decision is the first forward move out of assess: won (to initiate, or an admin's
  corrected skip further) or lost.
- Dimensions: the project's (modality, project manager) and its client's (segment, service
  model, account manager) as they are now; a project or client without a manager does not
  appear under that dimension. A touchpoint without a project counts in overall, segment,
  service model and account manager only.
- Touchpoints per active client: for a dimension value, the clients active in the month
  through a project in that value (project dimensions) or with that value (client
  dimensions). A month with touchpoints but no active client has no figure (no row).
- NPS keeps promoters - detractors as numerator and the answers as denominator.
- Client lifetime value sums contract values as recorded (a missing value counts 0),
  whatever their currency, for every month from the first win to the computation month.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from accounts.models import Organization, User
from journey.models import Client, Feedback, Milestone, PhaseTransition, Project, Touchpoint
from journey.scales import NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN
from journey.stays import leave_sql, stay_start_sql
from metrics.models import MetricResult

DAY_US = 86_400 * 1_000_000
PHASES = ("assess", "initiate", "plan", "execute", "close_out")


@dataclass(frozen=True)
class Dialect:
    vendor: str

    def month(self, col: str) -> str:
        """'YYYY-MM' of a timestamp, in UTC."""
        if self.vendor == "postgresql":
            return f"to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM')"
        return f"strftime('%%Y-%%m', {col})"

    def diff_us(self, a: str, b: str) -> str:
        """a - b in whole microseconds, exactly."""
        if self.vendor == "postgresql":
            return f"(EXTRACT(EPOCH FROM ({a} - {b})) * 1000000)"
        return f"({self._epoch_us(a)} - {self._epoch_us(b)})"

    def days(self, a: str, b: str) -> str:
        """a - b in days, as a double (the same IEEE value on both engines)."""
        if self.vendor == "postgresql":
            return f"(CAST({self.diff_us(a, b)} AS double precision) / {DAY_US}.0)"
        return f"(CAST({self.diff_us(a, b)} AS REAL) / {DAY_US}.0)"

    def utc_date(self, col: str) -> str:
        if self.vendor == "postgresql":
            return f"CAST(({col} AT TIME ZONE 'UTC') AS date)"
        return f"date({col})"

    @property
    def materialized(self) -> str:
        """Compute a CTE once: PostgreSQL otherwise inlines a CTE used once, and joining the
        inlined dimension union row by row is quadratic."""
        return "MATERIALIZED" if self.vendor == "postgresql" else ""

    def as_float(self, expr: str) -> str:
        return f"CAST({expr} AS {'double precision' if self.vendor == 'postgresql' else 'REAL'})"

    def next_month(self, col: str) -> str:
        if self.vendor == "postgresql":
            return f"to_char(to_date({col} || '-01', 'YYYY-MM-DD') + interval '1 month', 'YYYY-MM')"
        return f"strftime('%%Y-%%m', date({col} || '-01', '+1 month'))"

    @staticmethod
    def _epoch_us(col: str) -> str:
        # Django stores UTC as 'YYYY-MM-DD HH:MM:SS[.ffffff]': whole seconds from strftime,
        # the microseconds from the text (padded when there are none).
        # strftime('%s') would round a fraction of .9995 up to the next second: it gets the
        # whole seconds only ('YYYY-MM-DD HH:MM:SS').
        return (
            f"(CAST(strftime('%%s', substr({col}, 1, 19)) AS INTEGER) * 1000000"
            f" + CAST(substr({col} || '.000000', 21, 6) AS INTEGER))"
        )


def _tables() -> dict[str, str]:
    return {
        "project": Project._meta.db_table,
        "client": Client._meta.db_table,
        "user": User._meta.db_table,
        "transition": PhaseTransition._meta.db_table,
        "milestone": Milestone._meta.db_table,
        "touchpoint": Touchpoint._meta.db_table,
        "feedback": Feedback._meta.db_table,
        "result": MetricResult._meta.db_table,
    }


def common_ctes(d: Dialect, since: str | None = None) -> str:
    """CTEs every metric may use: dimensions of projects and clients, and the journal's stays.

    `since` (the name of a parameter, incremental refresh): only the journals of projects
    with an entry at or after it; their whole journal, so their stays are whole."""
    t = _tables()
    scoped = (
        f"""
           AND tr.project_id IN (SELECT s.project_id FROM {t["transition"]} s
                                  WHERE s.organization_id = %(org)s AND s.at >= %({since})s)"""
        if since
        else ""
    )
    return f"""
    pdims AS {d.materialized} (
        SELECT p.id AS project_id, p.client_id, 'overall' AS dimension, 'all' AS dimension_value
          FROM {t["project"]} p WHERE p.organization_id = %(org)s
        UNION ALL
        SELECT p.id, p.client_id, 'segment', c.segment
          FROM {t["project"]} p JOIN {t["client"]} c ON c.id = p.client_id
         WHERE p.organization_id = %(org)s
        UNION ALL
        SELECT p.id, p.client_id, 'service_model', c.service_model
          FROM {t["project"]} p JOIN {t["client"]} c ON c.id = p.client_id
         WHERE p.organization_id = %(org)s
        UNION ALL
        SELECT p.id, p.client_id, 'modality', p.modality
          FROM {t["project"]} p WHERE p.organization_id = %(org)s
        UNION ALL
        SELECT p.id, p.client_id, 'project_manager', u.email
          FROM {t["project"]} p JOIN {t["user"]} u ON u.id = p.project_manager_id
         WHERE p.organization_id = %(org)s
        UNION ALL
        SELECT p.id, p.client_id, 'account_manager', u.email
          FROM {t["project"]} p JOIN {t["client"]} c ON c.id = p.client_id
          JOIN {t["user"]} u ON u.id = c.account_manager_id
         WHERE p.organization_id = %(org)s
    ),
    cdims AS {d.materialized} (
        SELECT c.id AS client_id, 'overall' AS dimension, 'all' AS dimension_value
          FROM {t["client"]} c WHERE c.organization_id = %(org)s
        UNION ALL
        SELECT c.id, 'segment', c.segment FROM {t["client"]} c WHERE c.organization_id = %(org)s
        UNION ALL
        SELECT c.id, 'service_model', c.service_model
          FROM {t["client"]} c WHERE c.organization_id = %(org)s
        UNION ALL
        SELECT c.id, 'account_manager', u.email
          FROM {t["client"]} c JOIN {t["user"]} u ON u.id = c.account_manager_id
         WHERE c.organization_id = %(org)s
    ),
    journal AS {d.materialized} (
        SELECT tr.project_id, tr.seq, tr.kind, tr.from_phase, tr.to_phase, tr.at,
               -- When the stay this row ends began: the latest entering move before it
               -- (times never decrease along the journal).
               MAX(CASE WHEN {stay_start_sql("tr")} THEN tr.at END)
                   OVER (PARTITION BY tr.project_id ORDER BY tr.seq
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS stay_start
          FROM {t["transition"]} tr WHERE tr.organization_id = %(org)s{scoped}
    ),
    leaves_all AS {d.materialized} (
        SELECT j.project_id, j.from_phase AS phase, j.to_phase, j.kind, j.seq,
               j.at AS left_at, j.stay_start AS entered_at,
               ROW_NUMBER() OVER (PARTITION BY j.project_id, j.from_phase ORDER BY j.seq) AS nth
          FROM journal j
         WHERE {leave_sql("j")}
    ),
    leaves AS {d.materialized} (SELECT * FROM leaves_all WHERE nth = 1),
    decisions AS {d.materialized} (
        SELECT l.project_id, l.left_at AS at,
               CASE WHEN l.kind = 'lost' THEN 0 ELSE 1 END AS won
          FROM leaves l WHERE l.phase = 'assess'
    )"""


# A full rebuild builds the intermediate results every statement shares once, as temporary
# tables (indexed and analyzed, so the planner sees real row counts), instead of once per
# statement: the projects' and clients' dimensions, the stays' leaves and the decisions.
SHARED = ("pdims", "cdims", "leaves", "decisions")


def _temp(name: str) -> str:
    return f"metrics_shared_{name}"


def shared_tables_sql(d: Dialect) -> list[str]:
    """Statements that build the shared temporary tables for one organization (`%(org)s`)."""
    ctes = common_ctes(d)
    on_commit = " ON COMMIT DROP" if d.vendor == "postgresql" else ""
    out = [f"DROP TABLE IF EXISTS {_temp(name)}" for name in SHARED]
    for name in ("pdims", "cdims", "leaves"):
        out.append(
            f"CREATE TEMPORARY TABLE {_temp(name)}{on_commit} AS WITH {ctes} SELECT * FROM {name}"
        )
    out.append(
        f"CREATE TEMPORARY TABLE {_temp('decisions')}{on_commit} AS "
        f"SELECT project_id, left_at AS at, CASE WHEN kind = 'lost' THEN 0 ELSE 1 END AS won "
        f"FROM {_temp('leaves')} WHERE phase = 'assess'"
    )
    for name in ("pdims", "leaves", "decisions"):
        out.append(f"CREATE INDEX {_temp(name)}_project ON {_temp(name)} (project_id)")
    out.append(f"CREATE INDEX {_temp('cdims')}_client ON {_temp('cdims')} (client_id)")
    if d.vendor == "postgresql":
        out += [f"ANALYZE {_temp(name)}" for name in SHARED]
    return out


def shared_ctes() -> str:
    """The CTEs of `common_ctes`, read from the shared temporary tables."""
    return ",\n".join(f"    {name} AS (SELECT * FROM {_temp(name)})" for name in SHARED)


def _insert(select_sql: str, since_month: str | None = None) -> str:
    """`since_month` (a parameter's name, incremental refresh): only the rows of the periods
    from that month on (the refresh deleted exactly those)."""
    t = _tables()
    where = f" WHERE period >= %({since_month})s" if since_month else ""
    return f"""
    INSERT INTO {t["result"]} (organization_id, key, dimension, dimension_value, period, value,
                               numerator, denominator, n, provisional, computed_at,
                               created_at, updated_at)
    SELECT %(org)s, key, dimension, dimension_value, period, value, numerator, denominator, n,
           (provisional = 1), %(now)s, %(now)s, %(now)s
      FROM ({select_sql}) results{where}"""


def _median_select(d: Dialect, samples_cte: str, key_expr: str) -> str:
    """Median per (key, dimension, value, period) of a CTE `samples(key, dimension,
    dimension_value, period, x)`: the mean of the middle one or two values. PostgreSQL's
    `percentile_cont(0.5)` is that definition (SPEC) in one sort per group; SQLite has no
    ordered-set aggregate, so it ranks with windows (the same figures to 1e-12: a + (b - a)/2
    against (a + b)/2)."""
    if d.vendor == "postgresql":
        return f"""
    {samples_cte}
    SELECT {key_expr} AS key, dimension, dimension_value, period,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS value,
           {d.as_float("NULL")} AS numerator, {d.as_float("NULL")} AS denominator,
           COUNT(*) AS n, 0 AS provisional
      FROM samples
     GROUP BY key, dimension, dimension_value, period"""
    return f"""
    {samples_cte},
    ranked AS (
        SELECT key, dimension, dimension_value, period, x,
               ROW_NUMBER() OVER (PARTITION BY key, dimension, dimension_value, period
                                  ORDER BY x) AS rn,
               COUNT(*) OVER (PARTITION BY key, dimension, dimension_value, period) AS cnt
          FROM samples
    )
    SELECT {key_expr} AS key, dimension, dimension_value, period, AVG(x) AS value,
           {d.as_float("NULL")} AS numerator, {d.as_float("NULL")} AS denominator,
           MAX(cnt) AS n, 0 AS provisional
      FROM ranked
     WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2)
     GROUP BY key, dimension, dimension_value, period"""


# An incremental refresh recomputes the rows of the periods from `since` on (repeat business
# from a year earlier: a win reaches back to the completions of the year before it); client
# lifetime value, cumulative from the first win, reads the whole journal and writes from
# `since` on.
REPEAT_KEYS = ("repeat_business_rate",)


def statements(d: Dialect, incremental: bool = False) -> list[tuple[str, str]]:
    """(name, SQL) of every metric's INSERT ... SELECT, in the order they run. With
    `incremental`, the SQL takes `since`/`since_month` and `rb_since`/`rb_since_month` and
    writes only the periods from them on (`recompute(since=...)`)."""
    t = _tables()
    if incremental:
        ctes = common_ctes(d, "since")
        rb_ctes = common_ctes(d, "rb_since")
        full_ctes = common_ctes(d)
    else:  # the full rebuild reads the shared tables (`shared_tables_sql`)
        ctes = rb_ctes = full_ctes = shared_ctes()
    month = "since_month" if incremental else None
    rb_month = "rb_since_month" if incremental else None

    def since_of(col: str) -> str:
        return f" AND {col} >= %(since)s" if incremental else ""

    f = d.as_float
    out: list[tuple[str, str]] = []

    # Time to decision, and the median stay in each phase (period: the leaving month), and
    # time to kick-off (initiate's stay when it ended by entering plan).
    durations = f"""
    WITH {ctes},
    samples AS (
        SELECT 'time_to_decision_days' AS key, pd.dimension, pd.dimension_value,
               {d.month("dc.at")} AS period, {d.days("dc.at", "p.opened_at")} AS x
          FROM decisions dc
          JOIN {t["project"]} p ON p.id = dc.project_id
          JOIN pdims pd ON pd.project_id = dc.project_id
        UNION ALL
        SELECT 'phase_duration_days.' || l.phase, pd.dimension, pd.dimension_value,
               {d.month("l.left_at")}, {d.days("l.left_at", "l.entered_at")}
          FROM leaves l JOIN pdims pd ON pd.project_id = l.project_id
        UNION ALL
        SELECT 'time_to_kickoff_days', pd.dimension, pd.dimension_value,
               {d.month("l.left_at")}, {d.days("l.left_at", "l.entered_at")}
          FROM leaves l JOIN pdims pd ON pd.project_id = l.project_id
         WHERE l.phase = 'initiate' AND l.to_phase = 'plan'
    )"""
    out.append(("durations", _insert(_median_select(d, durations, "key"), month)))

    out.append(
        (
            "win_rate",
            _insert(
                f"""
    WITH {ctes}
    SELECT 'win_rate' AS key, pd.dimension, pd.dimension_value, {d.month("dc.at")} AS period,
           {f("SUM(dc.won)")} / COUNT(*) AS value, {f("SUM(dc.won)")} AS numerator,
           {f("COUNT(*)")} AS denominator, COUNT(*) AS n, 0 AS provisional
      FROM decisions dc JOIN pdims pd ON pd.project_id = dc.project_id
     GROUP BY pd.dimension, pd.dimension_value, {d.month("dc.at")}""",
                month,
            ),
        )
    )

    on_time = f"CASE WHEN {d.utc_date('m.completed_at')} <= m.due_date THEN 1 ELSE 0 END"
    out.append(
        (
            "on_time_milestone_rate",
            _insert(
                f"""
    WITH {ctes}
    SELECT 'on_time_milestone_rate' AS key, pd.dimension, pd.dimension_value,
           {d.month("m.completed_at")} AS period,
           {f(f"SUM({on_time})")} / COUNT(*) AS value, {f(f"SUM({on_time})")} AS numerator,
           {f("COUNT(*)")} AS denominator, COUNT(*) AS n, 0 AS provisional
      FROM {t["milestone"]} m JOIN pdims pd ON pd.project_id = m.project_id
     WHERE m.organization_id = %(org)s AND m.completed_at IS NOT NULL{since_of("m.completed_at")}
     GROUP BY pd.dimension, pd.dimension_value, {d.month("m.completed_at")}""",
                month,
            ),
        )
    )

    answered = (
        f"FROM {t['feedback']} fb JOIN pdims pd ON pd.project_id = fb.project_id "
        "WHERE fb.organization_id = %(org)s AND fb.score IS NOT NULL "
        "AND fb.responded_at IS NOT NULL" + since_of("fb.responded_at")
    )
    out.append(
        (
            "csat_avg",
            _insert(
                f"""
    WITH {ctes}
    SELECT 'csat_avg' AS key, pd.dimension, pd.dimension_value,
           {d.month("fb.responded_at")} AS period,
           {f("SUM(fb.score)")} / COUNT(*) AS value, {f("SUM(fb.score)")} AS numerator,
           {f("COUNT(*)")} AS denominator, COUNT(*) AS n, 0 AS provisional
      {answered} AND fb.kind = 'csat'
     GROUP BY pd.dimension, pd.dimension_value, {d.month("fb.responded_at")}""",
                month,
            ),
        )
    )
    net = f"SUM(CASE WHEN fb.score >= {NPS_PROMOTER_MIN} THEN 1 WHEN fb.score <= {NPS_DETRACTOR_MAX} THEN -1 ELSE 0 END)"
    out.append(
        (
            "nps",
            _insert(
                f"""
    WITH {ctes}
    SELECT 'nps' AS key, pd.dimension, pd.dimension_value,
           {d.month("fb.responded_at")} AS period,
           100.0 * {f(net)} / COUNT(*) AS value, {f(net)} AS numerator,
           {f("COUNT(*)")} AS denominator, COUNT(*) AS n, 0 AS provisional
      {answered} AND fb.kind = 'nps'
     GROUP BY pd.dimension, pd.dimension_value, {d.month("fb.responded_at")}""",
                month,
            ),
        )
    )

    # Touchpoints: with a project, in the project's dimensions; without, in the client's.
    touch = f"""
    WITH {ctes},
    tp AS (
        SELECT pd.dimension, pd.dimension_value, {d.month("x.at")} AS period,
               x.senior_leader_present AS senior
          FROM {t["touchpoint"]} x JOIN pdims pd ON pd.project_id = x.project_id
         WHERE x.organization_id = %(org)s AND x.project_id IS NOT NULL{since_of("x.at")}
        UNION ALL
        SELECT cd.dimension, cd.dimension_value, {d.month("x.at")},
               x.senior_leader_present
          FROM {t["touchpoint"]} x JOIN cdims cd ON cd.client_id = x.client_id
         WHERE x.organization_id = %(org)s AND x.project_id IS NULL{since_of("x.at")}
    ),
    tp_counts AS (
        SELECT dimension, dimension_value, period, COUNT(*) AS touches,
               SUM(CASE WHEN senior THEN 1 ELSE 0 END) AS senior_touches
          FROM tp GROUP BY dimension, dimension_value, period
    ),
    ended AS (
        SELECT project_id, MIN(at) AS ended_at FROM {t["transition"]}
         WHERE organization_id = %(org)s AND to_status IN ('lost', 'completed', 'cancelled')
         GROUP BY project_id
    ),
    spans AS (
        SELECT p.id AS project_id, p.client_id, {d.month("p.opened_at")} AS first_month,
               CASE WHEN e.ended_at IS NULL THEN NULL ELSE {d.month("e.ended_at")} END
                   AS last_month
          FROM {t["project"]} p LEFT JOIN ended e ON e.project_id = p.id
         WHERE p.organization_id = %(org)s
    ),
    tp_months AS (SELECT DISTINCT period FROM tp_counts),
    project_months AS (
        SELECT s.project_id, s.client_id, m.period
          FROM spans s JOIN tp_months m ON m.period >= s.first_month
           AND (s.last_month IS NULL OR m.period <= s.last_month)
    ),
    active AS (
        SELECT pd.dimension, pd.dimension_value, pm.period,
               COUNT(DISTINCT pm.client_id) AS clients
          FROM project_months pm JOIN pdims pd ON pd.project_id = pm.project_id
         GROUP BY pd.dimension, pd.dimension_value, pm.period
    )"""
    out.append(
        (
            "touchpoints",
            _insert(
                f"""
    {touch}
    SELECT 'touchpoints_per_active_client' AS key, c.dimension, c.dimension_value, c.period,
           {f("c.touches")} / a.clients AS value, {f("c.touches")} AS numerator,
           {f("a.clients")} AS denominator, c.touches AS n, 0 AS provisional
      FROM tp_counts c JOIN active a ON a.dimension = c.dimension
       AND a.dimension_value = c.dimension_value AND a.period = c.period
     WHERE a.clients > 0
    UNION ALL
    SELECT 'senior_touch_rate', c.dimension, c.dimension_value, c.period,
           {f("c.senior_touches")} / c.touches, {f("c.senior_touches")}, {f("c.touches")},
           c.touches, 0
      FROM tp_counts c""",
                month,
            ),
        )
    )

    # Repeat business: a completion whose client wins another project within 365 days. One
    # window over each client's completions and wins, latest first, gives every completion
    # the client's next win: the project's own decision precedes its completion, so that win
    # is always another project's, and a win at the very instant of the completion sorts
    # after it ("after" is strict).
    year_us = 365 * DAY_US
    out.append(
        (
            "repeat_business_rate",
            _insert(
                f"""
    WITH {rb_ctes},
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
               CASE WHEN {d.diff_us("%(now)s", "at")} < {year_us}
                    THEN 1 ELSE 0 END AS window_open
          FROM ordered WHERE is_completion = 1
    )
    SELECT 'repeat_business_rate' AS key, pd.dimension, pd.dimension_value,
           {d.month("cp.at")} AS period,
           {f("SUM(cp.is_repeat)")} / COUNT(*) AS value, {f("SUM(cp.is_repeat)")} AS numerator,
           {f("COUNT(*)")} AS denominator, COUNT(*) AS n,
           MAX(cp.window_open) AS provisional
      FROM completions cp JOIN pdims pd ON pd.project_id = cp.project_id
     GROUP BY pd.dimension, pd.dimension_value, {d.month("cp.at")}""",
                rb_month,
            ),
        )
    )

    # Client lifetime value: every month from the first win to now, cumulative.
    out.append(
        (
            "client_lifetime_value",
            _insert(
                f"""
    WITH RECURSIVE {full_ctes},
    won AS (
        SELECT pd.dimension, pd.dimension_value, pd.client_id, {d.month("dc.at")} AS month,
               CAST(ROUND(COALESCE(p.contract_value, 0) * 100) AS BIGINT) AS cents
          FROM decisions dc JOIN {t["project"]} p ON p.id = dc.project_id
          JOIN pdims pd ON pd.project_id = dc.project_id
         WHERE dc.won = 1
    ),
    months AS (
        SELECT MIN(month) AS month FROM won
        UNION ALL
        SELECT {d.next_month("month")} FROM months WHERE month < %(now_month)s
    ),
    firsts AS (
        SELECT dimension, dimension_value, client_id, MIN(month) AS month
          FROM won GROUP BY dimension, dimension_value, client_id
    ),
    steps AS (
        SELECT dimension, dimension_value, month, SUM(cents) AS dv, 0 AS dc
          FROM won GROUP BY dimension, dimension_value, month
        UNION ALL
        SELECT dimension, dimension_value, month, 0, COUNT(*)
          FROM firsts GROUP BY dimension, dimension_value, month
    ),
    step AS (
        SELECT dimension, dimension_value, month, SUM(dv) AS dv, SUM(dc) AS dc
          FROM steps GROUP BY dimension, dimension_value, month
    ),
    grid AS (
        SELECT f.dimension, f.dimension_value, m.month
          FROM (SELECT dimension, dimension_value, MIN(month) AS first_month FROM firsts
                 GROUP BY dimension, dimension_value) f
          JOIN months m ON m.month >= f.first_month AND m.month IS NOT NULL
    ),
    cumulative AS (
        SELECT g.dimension, g.dimension_value, g.month,
               SUM(COALESCE(s.dv, 0)) OVER w AS total, SUM(COALESCE(s.dc, 0)) OVER w AS clients
          FROM grid g LEFT JOIN step s ON s.dimension = g.dimension
           AND s.dimension_value = g.dimension_value AND s.month = g.month
        WINDOW w AS (PARTITION BY g.dimension, g.dimension_value ORDER BY g.month
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    SELECT 'client_lifetime_value' AS key, dimension, dimension_value, month AS period,
           ({f("total")} / 100.0) / clients AS value, {f("total")} / 100.0 AS numerator,
           {f("clients")} AS denominator, clients AS n, 0 AS provisional
      FROM cumulative WHERE clients > 0""",
                month,
            ),
        )
    )
    return out


def dialect() -> Dialect:
    return Dialect(connection.vendor)


def month_start(value: dt.datetime) -> dt.datetime:
    value = value.astimezone(dt.UTC)
    return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def recompute(*, organization_id: int, now: dt.datetime, since: dt.datetime | None = None) -> int:
    """Delete and rewrite one organization's results, all of them, or (`since`, an
    incremental refresh after a change) those of the periods a change at or after `since`
    can move: from since's month on, and repeat business from a year before. The same SQL
    definitions either way; the caller holds the transaction."""
    d = dialect()
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "org": organization_id,
        "now": adapt(now),
        "now_month": now.astimezone(dt.UTC).strftime("%Y-%m"),
    }
    table = MetricResult._meta.db_table
    if since is not None:
        start = month_start(min(since, now))
        rb_start = month_start(start - dt.timedelta(days=366))
        params.update(
            since=adapt(start),
            since_month=start.strftime("%Y-%m"),
            rb_since=adapt(rb_start),
            rb_since_month=rb_start.strftime("%Y-%m"),
        )
    written = 0
    with connection.cursor() as cursor:
        if d.vendor == "postgresql" and settings.METRICS_PG_WORK_MEM:
            # Sorts for the medians and windows stay in memory instead of spilling to disk;
            # LOCAL: for this transaction only.
            cursor.execute(
                "SELECT set_config('work_mem', %s, true)", [settings.METRICS_PG_WORK_MEM]
            )
        if since is None:
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization_id])
        else:
            keys = ", ".join(f"'{k}'" for k in REPEAT_KEYS)
            cursor.execute(
                f"DELETE FROM {table} WHERE organization_id = %(org)s AND ("
                f"(key NOT IN ({keys}) AND period >= %(since_month)s) OR "
                f"(key IN ({keys}) AND period >= %(rb_since_month)s))",
                params,
            )
        if since is None:
            for sql in shared_tables_sql(d):
                cursor.execute(sql, params)
        for _name, sql in statements(d, incremental=since is not None):
            cursor.execute(sql, params)
            written += max(cursor.rowcount, 0)
            if settings.METRICS_STATEMENT_DELAY:
                time.sleep(settings.METRICS_STATEMENT_DELAY)
        if since is None and d.vendor != "postgresql":  # PostgreSQL drops them at commit
            for name in SHARED:
                cursor.execute(f"DROP TABLE IF EXISTS {_temp(name)}")
    return written


def organization_ids() -> list[int]:
    return list(Organization.objects.order_by("pk").values_list("pk", flat=True))
