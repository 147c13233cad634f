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
