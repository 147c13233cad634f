"""Reads of a client's open work against its playbook, shared by the alert rules and the
health score: the touchpoint cadence each client with open work is held to, and the projects
past their phase target. Each takes `client_ids` to read only those clients' rows."""

from __future__ import annotations

import datetime as dt

from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone

from accounts.models import Organization
from engagement.services.playbooks import playbook_map
from journey.models import Client, Project, ProjectStatus, Touchpoint, open_project_q
from journey.selectors import project_list


def clients_with_open_work(
    organization: Organization, now: dt.datetime, *, senior_only: bool = False, client_ids=None
):
    """Clients with an open project, each with its last touchpoint (`last_touch_at/_id`; with
    a senior leader present if `senior_only`) and when its first open project was opened."""
    last = Touchpoint.objects.for_organization(organization).filter(
        client=OuterRef("pk"), at__lte=now
    )
    if senior_only:
        last = last.filter(senior_leader_present=True)
    last = last.order_by("-at", "-id")
    clients = Client.objects.for_organization(organization)
    if client_ids is not None:
        clients = clients.filter(pk__in=list(client_ids))
    return (
        clients.filter(open_project_q("projects__"))
        .annotate(
            last_touch_at=Subquery(last.values("at")[:1]),
            last_touch_id=Subquery(last.values("id")[:1]),
            first_open_at=Min("projects__opened_at", filter=open_project_q("projects__")),
        )
        .select_related("account_manager")
        .order_by("id")
    )


def client_cadence_state(
    organization: Organization, now: dt.datetime, client_ids=None
) -> list[dict]:
    """Per client with open work (of `client_ids`, or all): its cadence (the strictest of its
    open projects' phases), the last touchpoint, and since when the clock runs."""
    playbooks = playbook_map(organization=organization)
    clients = clients_with_open_work(organization, now, client_ids=client_ids)
    phases: dict[int, set[str]] = {}
    open_projects = Project.objects.for_organization(organization).filter(open_project_q())
    if client_ids is not None:
        open_projects = open_projects.filter(client_id__in=list(client_ids))
    for client_id, phase in open_projects.values_list("client_id", "phase"):
        phases.setdefault(client_id, set()).add(phase)
    out = []
    for client in clients.distinct():
        cadence_by_phase = playbooks[client.service_model].cadence_days or {}
        cadences = [
            cadence_by_phase.get(p) for p in phases.get(client.pk, ()) if cadence_by_phase.get(p)
        ]
        if not cadences:
            continue
        cadence = min(cadences)
        since = client.last_touch_at or client.first_open_at
        out.append(
            {
                "client": client,
                "cadence": cadence,
                "since": since,
                "last_touch_id": client.last_touch_id,
                "due_at": since + dt.timedelta(days=cadence),
            }
        )
    return out


def stuck_projects(
    *, organization: Organization, now: dt.datetime | None = None, client_ids=None
) -> list[tuple[Project, int, dt.datetime]]:
    """Active projects (of `client_ids`, or all) past their playbook's target for the
    current phase: (project, target days, when it became stuck)."""
    now = now or timezone.now()
    playbooks = playbook_map(organization=organization)
    out = []
    active = project_list(organization=organization).filter(status=ProjectStatus.ACTIVE)
    if client_ids is not None:
        active = active.filter(client_id__in=list(client_ids))
    for project in active:
        target = (playbooks[project.client.service_model].target_days or {}).get(project.phase)
        if not target or project.phase_entered_at is None:
            continue
        stuck_at = project.phase_entered_at + dt.timedelta(days=target)
        if now >= stuck_at:
            out.append((project, target, stuck_at))
    return out
