"""Reads behind the executive dashboard. Each takes the organization; none computes a metric.

The figures come from the stored results (`MetricResult`, one row per metric, dimension value
and month). A dashboard shows them over a range of months, so it pools the months:
- rates, means and NPS exactly, from their stored counts (sum of numerators / sum of
  denominators; NPS as 100 x that);
- medians cannot be pooled exactly from monthly medians, so a range shows the mean of the
  monthly medians weighted by their n, marked approximate (the monthly charts are exact);
- client lifetime value is cumulative, so a range shows its last month.
The funnel is counted from the journey journal itself (which phases each project entered).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from accounts.models import Organization
from accounts.selectors import member_list
from journey.models import (
    Modality,
    Phase,
    PhaseTransition,
    Project,
    ProjectStatus,
    Segment,
    ServiceModel,
    TransitionKind,
)
from metrics.models import METRIC_PHASE, RESULT_FIELDS, Dimension, MetricKey, MetricResult
from metrics.selectors import metric_last_computed_at, metric_run_latest, pooled_median

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
EARLIEST_MONTH = "1990-01"

DAYS = "days"
RATE = "rate"
SCORE = "score"
NPS = "nps"
RATIO = "ratio"
MONEY = "money"

# How each metric reads: its unit, and whether a smaller figure is the better one.
FORMAT: dict[str, str] = {
    MetricKey.TIME_TO_DECISION_DAYS: DAYS,
    MetricKey.WIN_RATE: RATE,
    MetricKey.PHASE_DURATION_ASSESS: DAYS,
    MetricKey.PHASE_DURATION_INITIATE: DAYS,
    MetricKey.PHASE_DURATION_PLAN: DAYS,
    MetricKey.PHASE_DURATION_EXECUTE: DAYS,
    MetricKey.PHASE_DURATION_CLOSE_OUT: DAYS,
    MetricKey.TIME_TO_KICKOFF_DAYS: DAYS,
    MetricKey.ON_TIME_MILESTONE_RATE: RATE,
    MetricKey.CSAT_AVG: SCORE,
    MetricKey.NPS: NPS,
    MetricKey.TOUCHPOINTS_PER_ACTIVE_CLIENT: RATIO,
    MetricKey.SENIOR_TOUCH_RATE: RATE,
    MetricKey.REPEAT_BUSINESS_RATE: RATE,
    MetricKey.CLIENT_LIFETIME_VALUE: MONEY,
}
MEDIANS = frozenset(k for k, f in FORMAT.items() if f == DAYS)
CUMULATIVE = frozenset({MetricKey.CLIENT_LIFETIME_VALUE})

# Columns of the people tables: what a PM and an AM answer for.
PM_KEYS = [
    MetricKey.TIME_TO_KICKOFF_DAYS,
    MetricKey.PHASE_DURATION_PLAN,
    MetricKey.PHASE_DURATION_EXECUTE,
    MetricKey.ON_TIME_MILESTONE_RATE,
    MetricKey.CSAT_AVG,
    MetricKey.NPS,
]
AM_KEYS = [
    MetricKey.WIN_RATE,
    MetricKey.TIME_TO_DECISION_DAYS,
    MetricKey.TOUCHPOINTS_PER_ACTIVE_CLIENT,
    MetricKey.SENIOR_TOUCH_RATE,
    MetricKey.REPEAT_BUSINESS_RATE,
    MetricKey.CLIENT_LIFETIME_VALUE,
]
# The rates drawn side by side for segments and service models.
COMPARE_CHART_KEYS = [
    MetricKey.WIN_RATE,
    MetricKey.ON_TIME_MILESTONE_RATE,
    MetricKey.SENIOR_TOUCH_RATE,
    MetricKey.REPEAT_BUSINESS_RATE,
]


# --- filters --------------------------------------------------------------------------------
def month_add(period: str, months: int) -> str:
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    out, current = [], first
    while current <= last and len(out) < 240:
        out.append(current)
        current = month_add(current, 1)
    return out


def month_start(period: str) -> dt.datetime:
    return dt.datetime(int(period[:4]), int(period[5:7]), 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class DashboardFilters:
    period_from: str
    period_to: str
    dimension: str = Dimension.OVERALL
    value: str = "all"

    @property
    def slice(self) -> str:
        return f"{self.dimension}:{self.value}"

    @property
    def months(self) -> list[str]:
        return months_between(self.period_from, self.period_to)

    @property
    def previous(self) -> tuple[str, str]:
        """The range of the same length just before this one (the tiles' comparison)."""
        length = len(self.months)
        return month_add(self.period_from, -length), month_add(self.period_from, -1)


def dashboard_filters(params, *, today: dt.date) -> DashboardFilters:
    """Read the query string; anything malformed falls back to the default (12 months)."""
    this_month = f"{today.year:04d}-{today.month:02d}"

    def month(value: str) -> str | None:
        # A month of the journey's era: from 1990 to this month (no figure lies outside).
        if not MONTH_RE.match(value):
            return None
        return min(max(value, EARLIEST_MONTH), this_month)

    period_to = month(params.get("to", "")) or this_month
    period_from = month(params.get("from", "")) or month_add(period_to, -11)
    if period_from > period_to:
        period_from, period_to = period_to, period_from
    if len(months_between(period_from, period_to)) >= 240:
        period_from = month_add(period_to, -239)
    dimension, _, value = params.get("slice", "").partition(":")
    if (
        dimension not in Dimension.values
        or dimension == Dimension.OVERALL
        or not value
        or not value.isprintable()  # a NUL or a control character matches no dimension value
    ):
        dimension, value = Dimension.OVERALL, "all"
    return DashboardFilters(period_from, period_to, dimension, value[:254])


def slice_choices(organization: Organization) -> list[tuple[str, list[tuple[str, str]]]]:
    """The filter's options, grouped: segments, service models, modalities, PMs, AMs."""
    people = {m.user.email: m.user.get_full_name() for m in member_list(organization=organization)}
    return [
        ("Overall", [("overall:all", "All clients and projects")]),
        ("Segment", [(f"segment:{v}", label) for v, label in Segment.choices]),
        ("Service model", [(f"service_model:{v}", label) for v, label in ServiceModel.choices]),
        ("Modality", [(f"modality:{v}", label) for v, label in Modality.choices]),
        (
            "Project manager",
            [(f"project_manager:{email}", name) for email, name in sorted(people.items())],
        ),
        (
            "Account manager",
            [(f"account_manager:{email}", name) for email, name in sorted(people.items())],
        ),
    ]


# --- pooling stored rows --------------------------------------------------------------------
@dataclass
class Figure:
    key: str
    value: float | None
    n: int = 0
    provisional: bool = False
    approximate: bool = False
    period: str | None = None  # the month shown, for cumulative figures

    @property
    def format(self) -> str:
        return FORMAT.get(self.key, RATIO)

    @property
    def display(self) -> str:
        return format_value(self.key, self.value)


Row = tuple  # (key, dimension, dimension_value, period, value, numerator, denominator, n, provisional)
ROW_FIELDS = RESULT_FIELDS


def pool(key: str, rows: list[Row]) -> Figure:
    """One figure for a metric over several months (see the module docstring)."""
    if not rows:
        return Figure(key, None)
    n = sum(r[7] for r in rows)
    provisional = any(r[8] for r in rows)
    if key in CUMULATIVE:
        last = max(rows, key=lambda r: r[3])
        return Figure(key, last[4], last[7], last[8], period=last[3])
    if key in MEDIANS:
        value, n = pooled_median([(r[4], r[7]) for r in rows])
        return Figure(key, value, n, provisional, approximate=len(rows) > 1)
    numerator = sum(r[5] or 0 for r in rows)
    denominator = sum(r[6] or 0 for r in rows)
    if not denominator:
        return Figure(key, None, n, provisional)
    value = numerator / denominator
    if key == MetricKey.NPS:
        value *= 100
    return Figure(key, value, n, provisional)


def format_value(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    kind = FORMAT.get(key, RATIO)
    if kind == RATE:
        return f"{value * 100:.0f}%"
    if kind == DAYS:
        return f"{value:.1f} d"
    if kind == SCORE:
        return f"{value:.2f}"
    if kind == NPS:
        return f"{value:+.0f}"
    if kind == MONEY:
        for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= limit:
                return f"{value / limit:.1f}{suffix}"
        return f"{value:.0f}"
    return f"{value:.2f}"


@dataclass
class Trend:
    text: str
    css: str  # good, bad or flat


def trend(key: str, now: float | None, before: float | None) -> Trend | None:
    if now is None or before is None:
        return None
    delta = now - before
    kind = FORMAT.get(key, RATIO)
    lower_is_better = kind == DAYS
    if kind == RATE:
        text, size = f"{abs(delta) * 100:.0f} pts", abs(delta) * 100
        flat = size < 0.5
    elif kind == DAYS:
        text, flat = f"{abs(delta):.1f} d", abs(delta) < 0.05
    elif kind == NPS:
        text, flat = f"{abs(delta):.0f}", abs(delta) < 0.5
    elif kind == MONEY:
        pct = abs(delta) / before * 100 if before else 0
        text, flat = f"{pct:.0f}%", pct < 0.5
    else:
        text, flat = f"{abs(delta):.2f}", abs(delta) < 0.005
    if flat:
        return Trend("no change", "flat")
    arrow = "▲" if delta > 0 else "▼"
    better = (delta < 0) if lower_is_better else (delta > 0)
    return Trend(f"{arrow} {text}", "good" if better else "bad")


# --- the dashboard's reads ------------------------------------------------------------------
def _rows(organization: Organization, **filters) -> list[Row]:
    return list(
        MetricResult.objects.for_organization(organization)
        .filter(**filters)
        .values_list(*ROW_FIELDS)
    )


@dataclass
class Tile:
    key: str
    label: str
    phase: str
    figure: Figure
    previous: Figure
    trend: Trend | None


@dataclass
class Series:
    key: str
    label: str
    phase: str
    points: list[dict] = field(default_factory=list)  # {period, value, display, n, provisional}

    @property
    def has_data(self) -> bool:
        return any(p["value"] is not None for p in self.points)

    @property
    def has_provisional(self) -> bool:
        return any(p["provisional"] for p in self.points)


def metric_tiles_and_series(
    *, organization: Organization, filters: DashboardFilters
) -> tuple[list[Tile], list[Series]]:
    """KPI tiles (the range pooled, vs the range before it) and the monthly series."""
    prev_from, _ = filters.previous
    rows = _rows(
        organization,
        dimension=filters.dimension,
        dimension_value=filters.value,
        period__gte=prev_from,
        period__lte=filters.period_to,
    )
    current: dict[str, list[Row]] = defaultdict(list)
    before: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        (current if row[3] >= filters.period_from else before)[row[0]].append(row)
    tiles, series = [], []
    for key, label in MetricKey.choices:
        figure, previous = pool(key, current[key]), pool(key, before[key])
        phase = METRIC_PHASE.get(key, "all")
        tiles.append(
            Tile(key, label, phase, figure, previous, trend(key, figure.value, previous.value))
        )
        by_month = {r[3]: r for r in current[key]}
        points = []
        for month in filters.months:
            row = by_month.get(month)
            value = None
            if row is not None:
                value = row[4]
            points.append(
                {
                    "period": month,
                    "value": value,
                    "display": format_value(key, value),
                    "n": row[7] if row else 0,
                    "provisional": bool(row and row[8]),
                }
            )
        series.append(Series(key, label, phase, points))
    return tiles, series


@dataclass
class ComparisonTable:
    columns: list[tuple[str, str, str]]  # (dimension, value, label)
    rows: list[dict]  # {key, label, cells: [Figure]}


@dataclass
class PeopleTable:
    title: str
    keys: list[tuple[str, str]]
    rows: list[dict]  # {email, name, cells: [Figure]}
    total: int = 0  # people with figures in the range (rows shows the first `PEOPLE_SHOWN`)
    dimension: str = ""

    @property
    def hidden(self) -> int:
        return self.total - len(self.rows)


# The people tables show the managers with the most figures behind them; "all" shows all.
PEOPLE_SHOWN = 10


def _top_people(
    organization: Organization, dimension: str, keys: list[str], filters, limit: int | None
) -> tuple[list[str], int]:
    """The managers (e-mails) with the most figures (sum of n) in the range, and how many
    have any: one grouped query over their rows."""
    totals = (
        MetricResult.objects.for_organization(organization)
        .filter(
            dimension=dimension,
            key__in=keys,
            period__gte=filters.period_from,
            period__lte=filters.period_to,
        )
        .order_by()
        .values("dimension_value")
        .annotate(n=Sum("n"))
        .order_by("-n", "dimension_value")
    )
    emails = list(totals.values_list("dimension_value", flat=True))
    return (emails[:limit] if limit else emails), len(emails)


def comparison_and_people(
    *, organization: Organization, filters: DashboardFilters, all_people: bool = False
) -> tuple[ComparisonTable, PeopleTable, PeopleTable]:
    """Segments and service models side by side, and the PM and AM tables (the managers
    with the most figures first; `all_people` for all of them), over the range. Only the
    rows the tables show are read."""
    in_range = {"period__gte": filters.period_from, "period__lte": filters.period_to}
    limit = None if all_people else PEOPLE_SHOWN
    pms, pm_total = _top_people(organization, Dimension.PROJECT_MANAGER, PM_KEYS, filters, limit)
    ams, am_total = _top_people(organization, Dimension.ACCOUNT_MANAGER, AM_KEYS, filters, limit)
    rows = (
        _rows(organization, dimension__in=[Dimension.SEGMENT, Dimension.SERVICE_MODEL], **in_range)
        + _rows(
            organization,
            dimension=Dimension.PROJECT_MANAGER,
            dimension_value__in=pms,
            key__in=PM_KEYS,
            **in_range,
        )
        + _rows(
            organization,
            dimension=Dimension.ACCOUNT_MANAGER,
            dimension_value__in=ams,
            key__in=AM_KEYS,
            **in_range,
        )
    )
    grouped: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for row in rows:
        grouped[(row[1], row[2], row[0])].append(row)

    columns = [(Dimension.SEGMENT, v, label) for v, label in Segment.choices] + [
        (Dimension.SERVICE_MODEL, v, label) for v, label in ServiceModel.choices
    ]
    comparison = ComparisonTable(
        columns=columns,
        rows=[
            {
                "key": key,
                "label": label,
                "cells": [pool(key, grouped.get((d, v, key), [])) for d, v, _ in columns],
            }
            for key, label in MetricKey.choices
        ],
    )
    names = {m.user.email: m.user.get_full_name() for m in member_list(organization=organization)}

    def people(dimension: str, keys: list[str], title: str) -> PeopleTable:
        emails, total = (
            (pms, pm_total) if dimension == Dimension.PROJECT_MANAGER else (ams, am_total)
        )
        return PeopleTable(
            title=title,
            keys=[(k, MetricKey(k).label) for k in keys],
            rows=[
                {
                    "email": email,
                    "name": names.get(email, email),
                    "cells": [pool(k, grouped.get((dimension, email, k), [])) for k in keys],
                }
                for email in emails
            ],
            total=total,
            dimension=dimension,
        )

    return (
        comparison,
        people(Dimension.PROJECT_MANAGER, PM_KEYS, "Project managers"),
        people(Dimension.ACCOUNT_MANAGER, AM_KEYS, "Account managers"),
    )


SLICE_FILTERS = {
    Dimension.SEGMENT: "client__segment",
    Dimension.SERVICE_MODEL: "client__service_model",
    Dimension.MODALITY: "modality",
    Dimension.PROJECT_MANAGER: "project_manager__email",
    Dimension.ACCOUNT_MANAGER: "client__account_manager__email",
}
ENTERING = [
    TransitionKind.OPENED,
    TransitionKind.WON,
    TransitionKind.ADVANCED,
    TransitionKind.CORRECTED,
]


@dataclass
class FunnelStep:
    phase: str
    label: str
    entered: int
    open_now: int
    conversion: float | None  # to the next phase (None for the last)
    width: float


def journey_funnel(*, organization: Organization, filters: DashboardFilters) -> dict:
    """Projects opened in the range (the cohort): how many entered each phase, how many are
    still open in it, and the conversion from one phase to the next, from the journal."""
    cohort = Project.objects.for_organization(organization).filter(
        opened_at__gte=month_start(filters.period_from),
        opened_at__lt=month_start(month_add(filters.period_to, 1)),
    )
    if filters.dimension in SLICE_FILTERS:
        cohort = cohort.filter(**{SLICE_FILTERS[filters.dimension]: filters.value})
    in_cohort = {
        "project__organization": organization,
        "project__opened_at__gte": month_start(filters.period_from),
        "project__opened_at__lt": month_start(month_add(filters.period_to, 1)),
    }
    if filters.dimension in SLICE_FILTERS:
        in_cohort[f"project__{SLICE_FILTERS[filters.dimension]}"] = filters.value
    entered = dict(
        PhaseTransition.objects.for_organization(organization)
        .filter(kind__in=ENTERING, **in_cohort)
        .values("to_phase")
        .annotate(n=Count("project", distinct=True))
        .values_list("to_phase", "n")
    )
    states = list(cohort.values("phase", "status").annotate(n=Count("id")))
    open_now: dict[str, int] = defaultdict(int)
    outcome: dict[str, int] = defaultdict(int)
    for s in states:
        if s["status"] in ProjectStatus.open():
            open_now[s["phase"]] += s["n"]
        outcome[s["status"]] += s["n"]
    order = Phase.order()
    top = max(entered.values(), default=0) or 1
    steps = []
    for i, phase in enumerate(order):
        n = entered.get(phase, 0)
        nxt = entered.get(order[i + 1], 0) if i + 1 < len(order) else None
        steps.append(
            FunnelStep(
                phase,
                Phase(phase).label,
                n,
                open_now.get(phase, 0),
                (nxt / n) if (nxt is not None and n) else None,
                100 * n / top,
            )
        )
    completed = outcome.get(ProjectStatus.COMPLETED, 0)
    return {
        "steps": steps,
        "opened": entered.get(Phase.ASSESS, 0),
        "lost": outcome.get(ProjectStatus.LOST, 0),
        "cancelled": outcome.get(ProjectStatus.CANCELLED, 0),
        "completed": completed,
        "completion_rate": (
            completed / entered[Phase.CLOSE_OUT] if entered.get(Phase.CLOSE_OUT) else None
        ),
    }


def metrics_status(*, organization: Organization) -> dict:
    """When the figures were computed and whether a recompute is under way."""
    running = metric_run_latest(organization=organization, finished=False)
    return {
        "last_computed_at": metric_last_computed_at(organization=organization),
        "running": running,
    }


def has_any_figures(*, organization: Organization) -> bool:
    return MetricResult.objects.for_organization(organization).filter(~Q(n=0)).exists()
