"""Every read the views, API, tasks and metrics share. Each takes the organization."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import Http404

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
    TransitionKind,
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
        .annotate(
            project_count=Count("projects", distinct=True),
            open_project_count=Count(
                "projects", filter=open_project_q("projects__"), distinct=True
            ),
        )
        .order_by("name", "id")
    )


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
    """Projects with their client and people, and when they entered their current phase."""
    entered = (
        PhaseTransition.objects.for_organization(organization)
        .filter(project=OuterRef("pk"), to_phase=OuterRef("phase"))
        .exclude(kind__in=[TransitionKind.ON_HOLD, TransitionKind.RESUMED])
        .order_by("-seq")
        .values("at")[:1]
    )
    return (
        Project.objects.for_organization(organization)
        .select_related("client", "project_manager", "executive_sponsor")
        .annotate(phase_entered_at=Subquery(entered))
        .order_by("-opened_at", "id")
    )


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
