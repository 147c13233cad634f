"""Every write of the metrics app: recomputing an organization's figures and asking for it.

Recomputes are requested after commit by the journey services (coalesced: one queued
recompute per organization at a time, started after a short countdown, so a burst of
changes costs a handful of recomputes), by a user or API client (`metrics_recompute_request`),
by the nightly schedule and by `compute_metrics`.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Organization
from accounts.permissions import Actor, Perm
from metrics import pending
from metrics.models import MetricRun, RunStatus
from metrics.recompute import (  # noqa: F401 - the synchronous entry points, re-exported
    metrics_recompute,
    metrics_run_fail,
    metrics_run_start,
)
from metrics.tasks import metrics_recompute_task

log = logging.getLogger(__name__)


def _enqueue_coalesced(organization_id: int, since: dt.datetime | None) -> None:
    # One queued refresh per organization: later changes ride on it, lowering its reach when
    # they go further back (`metrics.pending`); the task takes the slot when it starts, so a
    # change after that start queues the next one.
    if pending.claim_or_lower(organization_id, since):
        metrics_recompute_task.apply_async(
            kwargs={"organization_id": organization_id, "coalesced": True},
            countdown=settings.METRICS_COALESCE_SECONDS,
        )


def metrics_request_recompute(
    *, organization: Organization, since: dt.datetime | None = None
) -> None:
    """Ask for a refresh once the current transaction commits (at most one per transaction
    and organization, reaching back to the earliest change; nothing if it rolls back).
    `since`: the earliest time the change can move a figure at (None: all of them)."""
    if not settings.METRICS_AUTO_RECOMPUTE:
        return
    org_id = organization.pk
    conn = transaction.get_connection()
    if conn.in_atomic_block:
        for _sids, func, _robust in conn.run_on_commit:
            if getattr(func, "metrics_organization_id", None) == org_id:
                if func.since is not None:
                    func.since = None if since is None else min(func.since, since)
                return

    def callback() -> None:
        _enqueue_coalesced(org_id, callback.since)

    callback.metrics_organization_id = org_id  # type: ignore[attr-defined]
    callback.since = since  # type: ignore[attr-defined]
    transaction.on_commit(callback, robust=True)


def metrics_recompute_request(*, actor: Actor) -> MetricRun:
    """A user or API client asks for a recompute now: a queued run to follow, no countdown."""
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
