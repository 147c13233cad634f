"""Celery adapters for the engagement features: ids in, re-fetch, call a service. Each can
run twice with the same result (one survey per gate, a conditional update per e-mail, one
alert per cause, one health snapshot per client and day)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from accounts.models import Organization
from accounts.outbox import merge_rule
from engagement.services.alerts import alerts_run_rules
from engagement.services.health import health_refresh, health_snapshot_take
from engagement.services.playbooks import playbooks_ensure
from engagement.services.surveys import survey_gate_request, survey_send, survey_send_reminders

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError, OSError)
RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


def _organization(organization_id: int) -> Organization | None:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        log.warning("engagement task: organization %s is gone", organization_id)
    return organization


@shared_task(**RETRY)
def survey_gate_task(organization_id: int, transition_id: int) -> int | None:
    """The survey of the phase gate a journal entry closed; the feedback id (None: skipped)."""
    organization = _organization(organization_id)
    if organization is None:
        return None
    feedback = survey_gate_request(organization=organization, transition_id=transition_id)
    return feedback.pk if feedback else None


@shared_task(**RETRY)
def survey_send_task(organization_id: int, feedback_id: int) -> bool:
    """E-mail a request's link (once)."""
    organization = _organization(organization_id)
    if organization is None:
        return False
    return survey_send(organization=organization, feedback_id=feedback_id) is not None


@shared_task(**RETRY)
def engagement_daily_task(organization_id: int) -> dict:
    """One organization's daily run: survey reminders, alert rules, today's health snapshot."""
    organization = _organization(organization_id)
    if organization is None:
        return {}
    playbooks_ensure(organization=organization)
    reminders = survey_send_reminders(organization=organization)
    alerts = alerts_run_rules(organization=organization)
    snapshots = health_snapshot_take(organization=organization)
    return {"reminders": reminders, "alerts": alerts, "snapshots": snapshots}


@shared_task(acks_late=True)
def engagement_daily_all_task() -> int:
    """Daily (beat): queue the engagement run of every organization, each its own task."""
    ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    for organization_id in ids:
        engagement_daily_task.delay(organization_id=organization_id)
    return len(ids)


HEALTH_REFRESH_TASK = "engagement.tasks.health_refresh_task"


@merge_rule(HEALTH_REFRESH_TASK)
def _merge_client_ids(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Refreshes waiting together are one, of every client they name."""
    return {**first, "client_ids": sorted({*first["client_ids"], *second["client_ids"]})}


@shared_task(**RETRY)
def health_refresh_task(organization_id: int, client_ids: list[int]) -> int:
    """Recompute and store the health of clients whose work changed; the number stored."""
    organization = _organization(organization_id)
    if organization is None:
        return 0
    return health_refresh(organization=organization, client_ids=client_ids)


@shared_task(**RETRY)
def health_refresh_all_task(organization_id: int) -> int:
    """Every client's health again (the weights or a playbook changed)."""
    organization = _organization(organization_id)
    if organization is None:
        return 0
    return health_snapshot_take(organization=organization)
