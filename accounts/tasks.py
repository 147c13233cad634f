"""Celery adapters of the outbox (`accounts.outbox`): deliver one row, and the beat task
that hands over whatever is still waiting."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from accounts.outbox import outbox_deliver, outbox_flush_due_across_organizations


@shared_task(
    acks_late=True,
    ignore_result=True,
    # Below the row's lease, so a delivery never outlives the claim that protects it.
    time_limit=settings.OUTBOX_DELIVERY_TIME_LIMIT,
    soft_time_limit=settings.OUTBOX_DELIVERY_TIME_LIMIT - 10,
)
def outbox_deliver_task(message_id: int, organization_id: int | None = None) -> str:
    """Perform one outbox row, at most once (the claim decides); see `outbox_deliver`."""
    return outbox_deliver(message_id=message_id, organization_id=organization_id)


@shared_task(ignore_result=True)
def outbox_flush_task() -> int:
    """Beat: hand over what is waiting and due in every organization."""
    return outbox_flush_due_across_organizations()
