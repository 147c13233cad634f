"""Reads of stored metrics and recompute runs, shared by the API, the dashboard and tasks."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Organization
from metrics.models import MetricResult, MetricRun, RunStatus


def metric_list(
    *,
    organization: Organization,
    key: str | None = None,
    dimension: str | None = None,
    dimension_value: str | None = None,
    period_from: str | None = None,
    period_to: str | None = None,
) -> QuerySet[MetricResult]:
    """Stored rows of one organization, oldest period first. Periods are `YYYY-MM` strings,
    so the bounds compare as text (inclusive)."""
    qs = MetricResult.objects.for_organization(organization)
    if key:
        qs = qs.filter(key=key)
    if dimension:
        qs = qs.filter(dimension=dimension)
    if dimension_value:
        qs = qs.filter(dimension_value=dimension_value)
    if period_from:
        qs = qs.filter(period__gte=period_from)
    if period_to:
        qs = qs.filter(period__lte=period_to)
    return qs.order_by("key", "dimension", "dimension_value", "period", "id")


def metric_dimension_values(*, organization: Organization, dimension: str) -> list[str]:
    """The values a dimension takes in the stored results (for filter choices)."""
    return list(
        MetricResult.objects.for_organization(organization)
        .filter(dimension=dimension)
        .order_by("dimension_value")
        .values_list("dimension_value", flat=True)
        .distinct()
    )


def metric_run_get(*, organization: Organization, run_id) -> MetricRun:
    try:
        run_id = int(run_id)
    except (TypeError, ValueError):
        raise Http404("No such recompute.") from None
    run = (
        MetricRun.objects.for_organization(organization)
        .filter(pk=run_id)
        .select_related("requested_by")
        .first()
        if 0 < run_id < 2**63
        else None
    )
    if run is None:
        raise Http404("No such recompute.")
    return run


def metric_run_latest(
    *, organization: Organization, finished: bool | None = None
) -> MetricRun | None:
    """The newest run (or the newest finished / unfinished one)."""
    qs = MetricRun.objects.for_organization(organization)
    if finished is True:
        qs = qs.filter(status=RunStatus.SUCCEEDED)
    elif finished is False:
        qs = qs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
    return qs.order_by("-created_at", "-id").first()


def metric_last_computed_at(*, organization: Organization):
    """When the stored figures were computed (None before the first recompute)."""
    row = (
        MetricResult.objects.for_organization(organization)
        .order_by("-computed_at")
        .values_list("computed_at", flat=True)
        .first()
    )
    if row is not None:
        return row
    run = metric_run_latest(organization=organization, finished=True)
    return run.finished_at if run else None


def pooled_median(rows: list[tuple[float, int]]) -> tuple[float | None, int]:
    """One figure from monthly medians `(value, n)`: their mean weighted by n (a median
    cannot be pooled exactly from monthly medians; with one month it is exact)."""
    n = sum(count for _, count in rows)
    if not n:
        return None, 0
    return sum(value * count for value, count in rows) / n, n


def metric_medians_over_time(
    *, organization: Organization, keys: list[str], dimension: str, dimension_value: str
) -> dict[str, tuple[float | None, int, bool]]:
    """Median metrics over every stored month of one dimension value, one query:
    key -> (value, n, exact); `exact` is False when several months were pooled
    (`pooled_median`)."""
    rows: dict[str, list[tuple[float, int]]] = {key: [] for key in keys}
    stored = (
        MetricResult.objects.for_organization(organization)
        .filter(key__in=keys, dimension=dimension, dimension_value=dimension_value)
        .values_list("key", "value", "n")
    )
    for key, value, n in stored:
        rows[key].append((value, n))
    out = {}
    for key, months in rows.items():
        value, n = pooled_median(months)
        out[key] = (value, n, len(months) <= 1)
    return out
