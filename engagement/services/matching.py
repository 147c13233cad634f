"""PM matching: rank the organization's project managers for a project, explaining each rank.

Read-only (it writes nothing), kept with the services because it is a rule of the product:
experience counts completed projects with the same client segment and modality (3 points
each, at most 5 counted) and with one of the two (1 point each, at most 5 counted); their
CSAT on the same-segment-and-modality projects moves the score by (mean - 3) x 3; each open
project they manage now costs 2 points. Ties go to the lighter load, then the name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from accounts.models import Membership, Organization, Role, User
from journey.models import Feedback, FeedbackKind, Project, ProjectStatus, open_project_q
from journey.selectors import project_get

POINTS_SAME = 3
POINTS_PARTIAL = 1
COUNTED_MAX = 5
CSAT_FACTOR = 3
LOAD_PENALTY = 2

SCORE_RULES = (
    f"+{POINTS_SAME} per completed project of the same segment and modality, "
    f"+{POINTS_PARTIAL} per project sharing one of the two ({COUNTED_MAX} of each counted at "
    f"most), (mean CSAT - 3) x {CSAT_FACTOR} on the same kind of projects, "
    f"-{LOAD_PENALTY} per project they manage now. A busy project manager can score below "
    "zero; only the order matters."
)


@dataclass
class PMCandidate:
    user: User
    rank: int = 0
    score: float = 0.0
    same_segment_and_modality: int = 0
    same_segment_or_modality: int = 0
    csat_avg: float | None = None
    csat_n: int = 0
    active_projects: int = 0
    is_current: bool = False
    reasons: list[str] = field(default_factory=list)


def project_pm_suggestions(*, organization: Organization, project_id) -> list[PMCandidate]:
    """The organization's project managers, best match first, each with its reasons."""
    project = project_get(organization=organization, project_id=project_id)
    segment, modality = project.client.segment, project.modality
    users = [
        m.user
        for m in Membership.objects.filter(organization=organization, role=Role.PROJECT_MANAGER)
        .select_related("user")
        .order_by("user__full_name", "user__email")
        if m.user.is_active
    ]
    candidates = {
        u.pk: PMCandidate(user=u, is_current=u.pk == project.project_manager_id) for u in users
    }
    if not candidates:
        return []
    managed = (
        Project.objects.for_organization(organization)
        .filter(project_manager_id__in=candidates)
        .exclude(pk=project.pk)
    )
    same = Q(client__segment=segment, modality=modality)
    partial = (Q(client__segment=segment) | Q(modality=modality)) & ~same
    rows = managed.values("project_manager_id").annotate(
        same=Count("id", filter=same & Q(status=ProjectStatus.COMPLETED)),
        partial=Count("id", filter=partial & Q(status=ProjectStatus.COMPLETED)),
        active=Count("id", filter=open_project_q()),
    )
    for row in rows:
        c = candidates[row["project_manager_id"]]
        c.same_segment_and_modality = row["same"]
        c.same_segment_or_modality = row["partial"]
        c.active_projects = row["active"]
    # Each manager's CSAT on such projects, summed in the database (one row per manager).
    scores = {
        row["project__project_manager_id"]: (row["total"], row["n"])
        for row in Feedback.objects.for_organization(organization)
        .filter(
            kind=FeedbackKind.CSAT,
            score__isnull=False,
            project__project_manager_id__in=candidates,
            project__client__segment=segment,
            project__modality=modality,
        )
        .exclude(project_id=project.pk)
        .order_by()
        .values("project__project_manager_id")
        .annotate(total=Sum("score"), n=Count("id"))
    }
    label = f"{project.client.get_segment_display().lower()} · {project.get_modality_display()}"
    for c in candidates.values():
        points = POINTS_SAME * min(c.same_segment_and_modality, COUNTED_MAX)
        points += POINTS_PARTIAL * min(c.same_segment_or_modality, COUNTED_MAX)
        if c.same_segment_and_modality:
            c.reasons.append(f"{c.same_segment_and_modality} completed {label} project(s)")
        else:
            c.reasons.append(f"No completed {label} project yet")
        if c.same_segment_or_modality:
            c.reasons.append(
                f"{c.same_segment_or_modality} completed with the same segment or modality"
            )
        total, n = scores.get(c.user.pk, (0, 0))
        if n:
            c.csat_n = n
            c.csat_avg = total / n
            points += (c.csat_avg - 3) * CSAT_FACTOR
            c.reasons.append(f"CSAT {c.csat_avg:.1f} on such projects (n={c.csat_n})")
        else:
            c.reasons.append("No CSAT on such projects")
        points -= LOAD_PENALTY * c.active_projects
        c.reasons.append(f"{c.active_projects} open project(s) now")
        if c.is_current:
            c.reasons.append("Current project manager")
        c.score = round(points, 2)
    ranked = sorted(
        candidates.values(),
        key=lambda c: (-c.score, c.active_projects, (c.user.full_name or c.user.email).lower()),
    )
    for i, c in enumerate(ranked, start=1):
        c.rank = i
    return ranked
