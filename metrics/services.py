"""Every write of the metrics app: recomputing an organization's figures and asking for it.

Recomputes are asked for in the asking transaction, as outbox rows (`accounts.outbox`), by
the journey services (coalesced: one waiting refresh per organization, handed over after a
short countdown, so a burst of changes costs a handful of recomputes: `metrics.pending`), by
a user or API client (`metrics_recompute_request`), by the nightly schedule and by
`compute_metrics`. A broker outage delays them; it never loses one or fails the request.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organization
from accounts.outbox import task_enqueue
from accounts.permissions import Actor, Perm
from metrics import pending
from metrics.models import MetricRun, RunStatus
from metrics.recompute import (  # noqa: F401 - the synchronous entry points, re-exported
    metrics_recompute,
    metrics_run_fail,
    metrics_run_start,
)

log = logging.getLogger(__name__)


def metrics_request_recompute(
    *, organization: Organization, since: dt.datetime | None = None
) -> None:
    """Ask for a refresh, in the current transaction (nothing if it rolls back; one row per
    transaction and organization, reaching back to the earliest change). `since`: the
    earliest time the change can move a figure at (None: all of them)."""
    if not settings.METRICS_AUTO_RECOMPUTE:
        return
    task_enqueue(
        organization=organization,
        task=pending.TASK,
        kwargs={
            "organization_id": organization.pk,
            "coalesced": True,
            "reach": pending.reach_of(since),
        },
        dedupe_key=pending.DEDUPE_KEY,
        countdown=settings.METRICS_COALESCE_SECONDS,
    )


def metrics_recompute_request(*, actor: Actor) -> MetricRun:
    """A user or API client asks for a recompute now: a queued run to follow, no countdown.
    The run and its outbox row commit together, so with the broker down the run is handed
    over when it is back (and `metrics_runs_expire_stale` ends a run whose task was lost)."""
    actor.require(Perm.METRICS_RECOMPUTE)
    run = _request_run(actor)
    run.refresh_from_db()  # eager mode: already done
    return run


@transaction.atomic
def _request_run(actor: Actor) -> MetricRun:
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
    task_enqueue(
        organization=organization,
        task=pending.TASK,
        kwargs={"organization_id": organization.pk, "run_id": run.pk},
        task_id=run.task_id,
    )
    return run


def metrics_runs_expire_stale(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """Mark the organization's runs still queued or running `METRICS_RUN_STALE_MINUTES`
    after they were asked for as failed (their task was lost: a worker killed past its time
    limit, a broker that lost its queue), so none shows "queued" for ever; the number."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.METRICS_RUN_STALE_MINUTES)
    return (
        MetricRun.objects.for_organization(organization)
        .filter(
            Q(status=RunStatus.QUEUED, created_at__lt=cutoff)
            | Q(status=RunStatus.RUNNING, started_at__lt=cutoff)
        )
        .update(
            status=RunStatus.FAILED,
            finished_at=now,
            error=(
                f"Never finished within {settings.METRICS_RUN_STALE_MINUTES} minutes: its task "
                "was lost. The next recompute (at the latest the nightly one) covers it."
            ),
            updated_at=now,
        )
    )
