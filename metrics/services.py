"""Every write of the metrics app: recomputing an organization's figures and asking for it.

Recomputes are requested after commit by the journey services (coalesced: one queued
recompute per organization at a time, started after a short countdown, so a burst of
changes costs a handful of recomputes), by a user or API client (`metrics_recompute_request`),
by the nightly schedule and by `compute_metrics`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Organization
from accounts.permissions import Actor, Perm
from metrics import engine
from metrics.models import MetricRun, RunStatus

log = logging.getLogger(__name__)
RUN_HISTORY_DAYS = 30


def _pending_key(organization_id: int) -> str:
    return f"metrics:pending:{organization_id}"


@transaction.atomic
def metrics_recompute(
    *, organization: Organization, now: dt.datetime | None = None, run: MetricRun | None = None
) -> int:
    """Replace the organization's whole result set with a fresh computation; rows written.

    One transaction: readers see the old set or the new one, never a mix, and a process
    killed half-way leaves the old set. Recomputes of one organization are serialized by a
    lock on its row (PostgreSQL; SQLite serializes writers anyway), so two workers running
    the same recompute end with one complete set, not a doubled or failed one.
    """
    now = now or timezone.now()
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    started = time.monotonic()
    rows = engine.recompute(organization_id=organization.pk, now=now)
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


def _enqueue_coalesced(organization_id: int) -> None:
    from metrics.tasks import metrics_recompute_task

    # One queued recompute per organization: later changes ride on it. The task clears the
    # flag when it starts, so a change committed after that start queues the next one.
    if cache.add(_pending_key(organization_id), "1", timeout=settings.METRICS_PENDING_TTL):
        metrics_recompute_task.apply_async(
            kwargs={"organization_id": organization_id},
            countdown=settings.METRICS_COALESCE_SECONDS,
        )


def metrics_clear_pending(*, organization_id: int) -> None:
    cache.delete(_pending_key(organization_id))


def metrics_request_recompute(*, organization: Organization) -> None:
    """Ask for a recompute once the current transaction commits (at most one per transaction
    and organization; nothing if it rolls back)."""
    if not settings.METRICS_AUTO_RECOMPUTE:
        return
    org_id = organization.pk
    conn = transaction.get_connection()
    if conn.in_atomic_block:
        for _sids, func, _robust in conn.run_on_commit:
            if getattr(func, "metrics_organization_id", None) == org_id:
                return

    def callback() -> None:
        _enqueue_coalesced(org_id)

    callback.metrics_organization_id = org_id  # type: ignore[attr-defined]
    transaction.on_commit(callback, robust=True)


def metrics_recompute_request(*, actor: Actor) -> MetricRun:
    """A user or API client asks for a recompute now: a queued run to follow, no countdown."""
    from metrics.tasks import metrics_recompute_task

    actor.require(Perm.METRICS_RECOMPUTE)
    organization = actor.organization
    active = (
        MetricRun.objects.for_organization(organization)
        .filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING], trigger="request")
        .filter(created_at__gte=timezone.now() - dt.timedelta(minutes=15))
        .order_by("-created_at")
        .first()
    )
    if active is not None:
        # Pressing the button twice follows the run already queued.
        return active
    run = MetricRun.objects.create(
        organization=organization,
        trigger="request",
        requested_by=actor.user,
        task_id=str(uuid.uuid4()),
    )

    def enqueue() -> None:
        metrics_recompute_task.apply_async(
            kwargs={"organization_id": organization.pk, "run_id": run.pk}, task_id=run.task_id
        )

    if connection.in_atomic_block:
        transaction.on_commit(enqueue, robust=False)
    else:
        enqueue()
    run.refresh_from_db()
    return run
