"""Every read the views, API, tasks and metrics share. Each takes the organization."""

from __future__ import annotations

from django.db.models import Count, Max, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Organization
from journey.models import (
    Client,
    Contact,
    Feedback,
    Milestone,
    Phase,
    PhaseTransition,
    Project,
    Touchpoint,
    open_project_q,
)
from journey.stays import PhaseStay, phase_stays

MAX_ID = 2**63 - 1


def _get(queryset: QuerySet, pk, label: str):
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(f"No {label} with id {pk}.") from None
    if not 0 < pk <= MAX_ID:
        raise Http404(f"No {label} with id {pk}.")
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        # Another organization's object is answered exactly like a missing one.
        raise Http404(f"No {label} with id {pk}.")
    return obj


# --- clients --------------------------------------------------------------------------------
def client_list(*, organization: Organization) -> QuerySet[Client]:
    return (
        Client.objects.for_organization(organization)
        .select_related("account_manager")
        .order_by("name", "id")
    )


def with_client_activity(*, organization: Organization, clients) -> None:
    """Set `project_count`, `open_project_count` and `last_touch_at` on the clients a page
    shows: two grouped queries over their rows only."""
    clients = list(clients)
    ids = [c.pk for c in clients]
    projects = {
        row["client_id"]: row
        for row in Project.objects.for_organization(organization)
        .filter(client_id__in=ids)
        .order_by()
        .values("client_id")
        .annotate(n=Count("id"), open=Count("id", filter=open_project_q()))
    }
    touched = dict(
        Touchpoint.objects.for_organization(organization)
        .filter(client_id__in=ids)
        .order_by()
        .values("client_id")
        .annotate(last=Max("at"))
        .values_list("client_id", "last")
    )
    for client in clients:
        row = projects.get(client.pk, {})
        client.project_count = row.get("n", 0)
        client.open_project_count = row.get("open", 0)
        client.last_touch_at = touched.get(client.pk)


def client_get(*, organization: Organization, client_id) -> Client:
    return _get(
        Client.objects.for_organization(organization).select_related("account_manager"),
        client_id,
        "client",
    )


# --- contacts -------------------------------------------------------------------------------
def contact_list(*, organization: Organization, client_id=None) -> QuerySet[Contact]:
    qs = Contact.objects.for_organization(organization).select_related("client")
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    return qs.order_by("client__name", "-is_primary", "name", "id")


def contact_get(*, organization: Organization, contact_id) -> Contact:
    return _get(
        Contact.objects.for_organization(organization).select_related("client"),
        contact_id,
        "contact",
    )


# --- projects -------------------------------------------------------------------------------
def project_list(*, organization: Organization) -> QuerySet[Project]:
    """Projects with their client and people (`phase_entered_at` is stored on the project)."""
    return (
        Project.objects.for_organization(organization)
        .select_related("client", "project_manager", "executive_sponsor")
        .order_by("-opened_at", "id")
    )


def with_overdue_counts(*, organization: Organization, projects) -> None:
    """Set `overdue_count` (open milestones past due) on the projects a page shows: one
    query over their milestones only."""
    projects = list(projects)
    counts = dict(
        Milestone.objects.for_organization(organization)
        .filter(
            project_id__in=[p.pk for p in projects],
            completed_at__isnull=True,
            due_date__lt=timezone.now().date(),
        )
        .order_by()
        .values("project_id")
        .annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    for project in projects:
        project.overdue_count = counts.get(project.pk, 0)


def project_get(*, organization: Organization, project_id) -> Project:
    return _get(project_list(organization=organization), project_id, "project")


def project_timeline(*, organization: Organization, project_id) -> QuerySet[PhaseTransition]:
    """The project's journal, oldest first (404 outside the organization)."""
    project = project_get(organization=organization, project_id=project_id)
    return (
        PhaseTransition.objects.for_organization(organization)
        .filter(project=project)
        .select_related("by")
        .order_by("seq")
    )


def project_phase_stays(*, organization: Organization, project_id) -> list[PhaseStay]:
    """The project's phase stays (`journey.stays`), oldest first."""
    return phase_stays(project_timeline(organization=organization, project_id=project_id))


def project_phase_counts(*, organization: Organization) -> dict[str, int]:
    """Open (active or on hold) projects per phase, in journey order."""
    rows = (
        Project.objects.for_organization(organization)
        .open()
        .values("phase")
        .annotate(n=Count("id"))
    )
    by_phase = {r["phase"]: r["n"] for r in rows}
    return {p: by_phase.get(p, 0) for p in Phase.order()}


# --- milestones, touchpoints, feedback ------------------------------------------------------
def milestone_list(*, organization: Organization, project_id=None) -> QuerySet[Milestone]:
    qs = Milestone.objects.for_organization(organization).select_related("project")
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    return qs.order_by("due_date", "id")


def milestone_get(*, organization: Organization, milestone_id) -> Milestone:
    return _get(
        Milestone.objects.for_organization(organization).select_related("project"),
        milestone_id,
        "milestone",
    )


def touchpoint_list(*, organization: Organization, client_id=None) -> QuerySet[Touchpoint]:
    qs = Touchpoint.objects.for_organization(organization).select_related("client", "project", "by")
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    return qs.order_by("-at", "-id")


def touchpoint_get(*, organization: Organization, touchpoint_id) -> Touchpoint:
    return _get(
        Touchpoint.objects.for_organization(organization).select_related("client", "project", "by"),
        touchpoint_id,
        "touchpoint",
    )


def feedback_list(*, organization: Organization, project_id=None) -> QuerySet[Feedback]:
    qs = Feedback.objects.for_organization(organization).select_related("project", "contact")
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    return qs.order_by("-responded_at", "-id")


def feedback_get(*, organization: Organization, feedback_id) -> Feedback:
    return _get(
        Feedback.objects.for_organization(organization).select_related("project", "contact"),
        feedback_id,
        "feedback",
    )
