"""Running a recompute: replacing an organization's result set and keeping its run record.
The task (`metrics.tasks`) and the synchronous callers (`compute_metrics`, tests) call these;
`metrics.services` asks for them."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from metrics import engine
from metrics.models import MetricRun, RunStatus

log = logging.getLogger(__name__)
RUN_HISTORY_DAYS = 30


@transaction.atomic
def metrics_recompute(
    *,
    organization: Organization,
    now: dt.datetime | None = None,
    run: MetricRun | None = None,
    since: dt.datetime | None = None,
) -> int:
    """Replace the organization's whole result set with a fresh computation, or with
    `since` (after a change) the rows of the periods a change at or after it can move
    (`engine.recompute`); rows written.

    One transaction: readers see the old set or the new one, never a mix, and a process
    killed half-way leaves the old set. Recomputes of one organization are serialized by a
    lock on its row (PostgreSQL; SQLite serializes writers anyway), so two workers running
    the same recompute end with one complete set, not a doubled or failed one.
    """
    now = now or timezone.now()
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    started = time.monotonic()
    rows = engine.recompute(organization_id=organization.pk, now=now, since=since)
    if run is not None:
        MetricRun.objects.for_organization(organization).filter(pk=run.pk).update(
            status=RunStatus.SUCCEEDED,
            finished_at=timezone.now(),
            rows_written=rows,
            duration_ms=int((time.monotonic() - started) * 1000),
            error="",
            updated_at=timezone.now(),
        )
    # The run history is for following progress and spotting failures, not an archive.
    MetricRun.objects.for_organization(organization).filter(
        created_at__lt=now - dt.timedelta(days=RUN_HISTORY_DAYS),
        status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED],
    ).delete()
    log.info("metrics recomputed for %s: %d rows", organization.slug, rows)
    return rows


def metrics_run_start(*, organization: Organization, run_id: int | None, trigger: str) -> MetricRun:
    """Mark a run as running (creating it for change-triggered and scheduled recomputes)."""
    now = timezone.now()
    run = None
    if run_id is not None:
        run = MetricRun.objects.for_organization(organization).filter(pk=run_id).first()
    if run is None:
        run = MetricRun.objects.create(organization=organization, trigger=trigger)
    MetricRun.objects.for_organization(organization).filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=now, updated_at=now
    )
    run.status, run.started_at = RunStatus.RUNNING, now
    return run


def metrics_run_fail(*, organization: Organization, run: MetricRun, error: str) -> None:
    now = timezone.now()
    MetricRun.objects.for_organization(organization).filter(pk=run.pk).update(
        status=RunStatus.FAILED, finished_at=now, error=error[:2000], updated_at=now
    )
