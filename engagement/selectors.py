"""Reads of the engagement features that views, the API and tasks share: the alert inbox and
its counts, survey requests and response rates. Each takes the organization.

(Health, PM suggestions and playbook figures are computed by `engagement.services.health`,
`engagement.services.matching` and `engagement.services.playbooks`; they write nothing.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Organization
from engagement.models import Alert
from journey.models import Feedback, FeedbackOrigin
from journey.selectors import _get

REQUEST_ORIGINS = (FeedbackOrigin.REQUEST, FeedbackOrigin.GATE)


# --- alerts ---------------------------------------------------------------------------------
def alert_state_q(state: str, today: dt.date) -> Q:
    """`open`: unresolved and awake (the inbox); `snoozed`; `resolved`."""
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today)
    if state == "open":
        return awake & Q(resolved_at__isnull=True)
    if state == "snoozed":
        return Q(resolved_at__isnull=True, snoozed_until__gt=today)
    if state == "resolved":
        return Q(resolved_at__isnull=False)
    raise ValueError(f"unknown alert state {state!r}")


def alert_state(alert: Alert, today: dt.date | None = None) -> str:
    today = today or timezone.now().date()
    if alert.resolved_at is not None:
        return "resolved"
    if alert.snoozed_until and alert.snoozed_until > today:
        return "snoozed"
    return "open"


def alert_list(
    *,
    organization: Organization,
    assignee=None,
    state: str | None = "open",
    today: dt.date | None = None,
) -> QuerySet[Alert]:
    """Alerts of the organization, newest first. `state`: `open` (unresolved and not snoozed
    past today: the inbox), `snoozed`, `resolved`, or None for all; `assignee` a user."""
    today = today or timezone.now().date()
    qs = Alert.objects.for_organization(organization).select_related(
        "assignee", "client", "project", "milestone", "resolved_by"
    )
    if assignee is not None:
        qs = qs.filter(assignee=assignee)
    if state is not None:
        qs = qs.filter(alert_state_q(state, today))
    return qs.order_by("-raised_at", "-id")


def alert_get(*, organization: Organization, alert_id) -> Alert:
    return _get(
        Alert.objects.for_organization(organization).select_related(
            "assignee", "client", "project", "milestone", "resolved_by"
        ),
        alert_id,
        "alert",
    )


def alert_counts(*, organization: Organization, user, today: dt.date | None = None) -> dict:
    """A user's inbox in numbers (for the navigation badge): open (awake) alerts, snoozed,
    and open per kind."""
    today = today or timezone.now().date()
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today)
    qs = Alert.objects.for_organization(organization).filter(
        assignee=user, resolved_at__isnull=True
    )
    totals = qs.aggregate(open=Count("id", filter=awake), snoozed=Count("id", filter=~awake))
    by_kind = dict(qs.filter(awake).values_list("kind").annotate(n=Count("id")).order_by())
    return {"open": totals["open"], "snoozed": totals["snoozed"], "by_kind": by_kind}


def alert_counts_by_user(
    *, organization: Organization, today: dt.date | None = None
) -> dict[int | None, int]:
    """Open (awake) alerts per assignee id (None: unassigned), for admins' overview."""
    today = today or timezone.now().date()
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today)
    rows = (
        Alert.objects.for_organization(organization)
        .filter(awake, resolved_at__isnull=True)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["assignee_id"]: r["n"] for r in rows}


# --- survey requests ------------------------------------------------------------------------
def feedback_request_status(feedback: Feedback, now: dt.datetime | None = None) -> str:
    """answered, expired, pending (sent, waiting) or unsent (no e-mail could go out)."""
    now = now or timezone.now()
    if feedback.score is not None:
        return "answered"
    if feedback.expires_at is not None and feedback.expires_at <= now:
        return "expired"
    return "pending" if feedback.sent_at is not None else "unsent"


def feedback_request_list(
    *, organization: Organization, project_id=None, client_id=None
) -> QuerySet[Feedback]:
    """Survey requests (gate and manual), newest first, with project, client and contact."""
    qs = (
        Feedback.objects.for_organization(organization)
        .filter(origin__in=REQUEST_ORIGINS)
        .select_related("project__client", "contact")
    )
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    if client_id is not None:
        qs = qs.filter(project__client_id=client_id)
    return qs.order_by("-requested_at", "-id")


def feedback_request_get(*, organization: Organization, feedback_id) -> Feedback:
    return _get(feedback_request_list(organization=organization), feedback_id, "feedback request")


@dataclass(frozen=True)
class ResponseRate:
    sent: int
    answered: int
    pending: int
    expired: int
    reminded: int

    @property
    def rate(self) -> float | None:
        """Answered over sent (None before anything was sent)."""
        return self.answered / self.sent if self.sent else None


def _rate_counts(now: dt.datetime) -> dict:
    sent = Q(sent_at__isnull=False)
    return {
        "sent": Count("id", filter=sent),
        "answered": Count("id", filter=sent & Q(score__isnull=False)),
        "pending": Count("id", filter=sent & Q(score__isnull=True, expires_at__gt=now)),
        "expired": Count("id", filter=sent & Q(score__isnull=True, expires_at__lte=now)),
        "reminded": Count("id", filter=sent & Q(reminder_sent_at__isnull=False)),
    }


def survey_response_rate(
    *, organization: Organization, project_id=None, client_id=None, now=None
) -> ResponseRate:
    """Response rate of the surveys sent about a project, a client, or the organization."""
    now = now or timezone.now()
    qs = feedback_request_list(
        organization=organization, project_id=project_id, client_id=client_id
    )
    return ResponseRate(**qs.order_by().aggregate(**_rate_counts(now)))


def survey_response_rates_by_client(
    *, organization: Organization, now=None
) -> dict[int, ResponseRate]:
    """Response rate per client id in one query (client lists)."""
    now = now or timezone.now()
    rows = (
        feedback_request_list(organization=organization)
        .order_by()
        .values("project__client_id")
        .annotate(**_rate_counts(now))
    )
    return {r.pop("project__client_id"): ResponseRate(**r) for r in rows}


def survey_response_rates_by_project(
    *, organization: Organization, client_id=None, now=None
) -> dict[int, ResponseRate]:
    now = now or timezone.now()
    rows = (
        feedback_request_list(organization=organization, client_id=client_id)
        .order_by()
        .values("project_id")
        .annotate(**_rate_counts(now))
    )
    return {r.pop("project_id"): ResponseRate(**r) for r in rows}
