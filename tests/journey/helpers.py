from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import AuditEvent
from accounts.permissions import Actor
from journey.models import Phase, PhaseTransition, Project
from journey.services import project_transition
from tests.factories import ProjectFactory

PHASES = Phase.order()


def project_in(
    actor: Actor, phase: str, status: str = "active", *, start_days_ago: int = 100, **kwargs
) -> Project:
    """A project walked through the journey by the services to (phase, status), one day per move."""
    system = Actor.system(actor.organization)
    start = timezone.now() - dt.timedelta(days=start_days_ago)
    client = kwargs.pop("client", None)
    if client is not None:
        kwargs["client"] = client
    else:
        from tests.factories import ClientFactory

        kwargs["client"] = ClientFactory(organization=actor.organization)
    project = ProjectFactory(opened_at=start, **kwargs)
    day = 1
    for target in PHASES[1 : PHASES.index(phase) + 1]:
        project = project_transition(
            actor=system, project_id=project.pk, to=target, at=start + dt.timedelta(days=day)
        )
        day += 1
    if status != "active":
        to = {
            "on_hold": "on_hold",
            "lost": "lost",
            "completed": "completed",
            "cancelled": "cancelled",
        }[status]
        project = project_transition(
            actor=system, project_id=project.pk, to=to, at=start + dt.timedelta(days=day)
        )
    return project


def journal_state(project: Project) -> tuple:
    """Everything a refused move must leave unchanged."""
    fresh = Project.objects.for_organization(project.organization_id).get(pk=project.pk)
    journal = list(
        PhaseTransition.objects.for_organization(project.organization_id)
        .filter(project_id=project.pk)
        .values_list("seq", "kind", "to_phase", "to_status", "at")
    )
    audits = AuditEvent.objects.for_organization(project.organization_id).count()
    return (fresh.phase, fresh.status, fresh.journal_seq, journal, audits)
