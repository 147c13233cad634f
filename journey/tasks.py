"""Celery adapters of the journey app: ids in, re-fetch, call a service. The import steps
claim their job with a conditional update, so a task delivered twice runs once."""

from __future__ import annotations

from celery import shared_task

from accounts.models import Organization
from journey.imports.services import import_job_check, import_job_write


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=3600, soft_time_limit=3540)
def import_job_check_task(organization_id: int, job_id: int) -> None:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is not None:
        import_job_check(organization=organization, job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=3600, soft_time_limit=3540)
def import_job_write_task(organization_id: int, job_id: int) -> None:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is not None:
        import_job_write(organization=organization, job_id=job_id)
