"""Celery adapters: ids in, re-fetch, call a service. Safe to run twice (a recompute replaces
the organization's whole result set in one transaction)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError, InterfaceError, OperationalError

from accounts.models import Organization
from metrics import pending
from metrics.recompute import (
    metrics_recompute,
    metrics_run_fail,
    metrics_run_start,
)
from metrics.services import metrics_runs_expire_stale

log = logging.getLogger(__name__)

# Lost connections, deadlocks, serialization failures: worth another try.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def metrics_recompute_task(
    self,
    organization_id: int,
    run_id: int | None = None,
    coalesced: bool = False,
    reach: int | None = None,
) -> int:
    """Recompute one organization's metrics: in full, or (`coalesced`, asked for by changes)
    only what changes at or after `reach` can move (`metrics.pending`); rows written."""
    since = pending.since_of(reach) if coalesced else None
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        log.warning("metrics recompute: organization %s is gone", organization_id)
        return 0
    metrics_runs_expire_stale(organization=organization)
    trigger = "request" if run_id is not None else "change"
    run = metrics_run_start(organization=organization, run_id=run_id, trigger=trigger)
    try:
        return metrics_recompute(organization=organization, run=run, since=since)
    except TRANSIENT:
        raise
    except DatabaseError as exc:
        metrics_run_fail(organization=organization, run=run, error=str(exc))
        raise
    except Exception as exc:
        metrics_run_fail(organization=organization, run=run, error=repr(exc))
        raise


@shared_task(acks_late=True)
def metrics_recompute_all_task() -> int:
    """Nightly: queue a recompute for every organization (each its own task)."""
    ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    for organization_id in ids:
        metrics_recompute_task.delay(organization_id=organization_id)
    return len(ids)
