"""Alerts: the follow-ups a person owes a client. Raised by the closed loop (a low score) and
by the daily rules (cadence, senior-leader presence, stuck projects, overdue milestones,
unanswered surveys);
snoozed until a date or resolved with a note.

Every alert names its cause in `cause_key`, including the episode (the last touchpoint, the
phase stay, the due date): a rule run twice, or every day, finds the alert it raised and
raises nothing, even after the alert was resolved; a new episode (a touchpoint logged, then
silence again) is a new cause. The database keeps one open alert per cause. When a rule's
cause is gone (the touchpoint came, the project moved on), its open alert resolves itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextvars import ContextVar
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_date

from accounts.audit import audit_record
from accounts.models import Organization
from accounts.permissions import Actor, Perm
from accounts.webhooks import webhook_emit, webhook_subscribed
from engagement.api.serializers import AlertOut
from engagement.models import Alert, AlertKind
from engagement.selectors import alert_get
from engagement.services.health import health_refresh
from engagement.services.playbooks import playbook_map
from engagement.services.work import (
    client_cadence_state,
    clients_with_open_work,
    stuck_projects,
)
from journey.errors import JourneyError
from journey.models import (
    Feedback,
    Milestone,
    Project,
    Touchpoint,
    open_project_q,
)
from journey.scales import is_low_score, score_scale
from journey.service_helpers import require_text

log = logging.getLogger(__name__)

AUTO_RESOLVED = "Resolved automatically: the cause is gone ({why})."


class _Batch:
    """The daily run's alerts, raised as a set: the causes that already have an alert are
    read once, the new alerts written in bulk (`alerts_run_rules`)."""

    def __init__(self, organization: Organization):
        self.known = set(
            Alert.objects.for_organization(organization).values_list("cause_key", flat=True)
        )
        self.pending: list[Alert] = []


_BATCH: ContextVar[_Batch | None] = ContextVar("alert_batch", default=None)


def _raise(
    *, organization: Organization, kind: str, cause_key: str, now: dt.datetime, **fields: Any
) -> Alert | None:
    """Create the alert of a cause unless the cause already has one (open or resolved)."""
    batch = _BATCH.get()
    if batch is not None:
        if cause_key in batch.known:
            return None
        batch.known.add(cause_key)
        alert = Alert(
            organization=organization, kind=kind, cause_key=cause_key, raised_at=now, **fields
        )
        batch.pending.append(alert)
        return alert
    scoped = Alert.objects.for_organization(organization)
    if scoped.filter(cause_key=cause_key).exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                organization=organization, kind=kind, cause_key=cause_key, raised_at=now, **fields
            )
    except IntegrityError:  # raised meanwhile by a concurrent run
        return None
    _raised_emit(organization, [alert])
    return alert


def _raised_emit(organization: Organization, alerts: list[Alert]) -> None:
    """`alert.raised`, once per new alert, rendered as the API renders it."""
    for alert in alerts:
        webhook_emit(
            organization=organization, type="alert.raised", data=lambda a=alert: AlertOut(a).data
        )


# --- the closed loop ------------------------------------------------------------------------
def alerts_for_low_score(*, feedback: Feedback, now: dt.datetime | None = None) -> list[Alert]:
    """A low score (`journey.scales`: CSAT 1-2, NPS 0-6), however it arrived: a follow-up alert for the client's
    account manager and, if set, the project's executive sponsor, carrying the comment."""
    if not is_low_score(feedback.kind, feedback.score):
        return []
    now = now or timezone.now()
    project = (
        Project.objects.for_organization(feedback.organization_id)
        .select_related("client__account_manager", "executive_sponsor", "organization")
        .get(pk=feedback.project_id)
    )
    client = project.client
    contact = feedback.contact
    who = contact.name if contact else client.name
    high = score_scale(feedback.kind).high
    title = f"{feedback.kind.upper()} {feedback.score}/{high} from {who} on {project.code}"
    message = feedback.comment or "(no comment)"
    recipients = [("am", client.account_manager)]
    if project.executive_sponsor_id and project.executive_sponsor_id != client.account_manager_id:
        recipients.append(("sponsor", project.executive_sponsor))
    raised = []
    for role, user in recipients:
        alert = _raise(
            organization=project.organization,
            kind=AlertKind.LOW_SCORE,
            cause_key=f"low_score:f{feedback.pk}:{role}",
            now=now,
            assignee=user,
            client=client,
            project=project,
            feedback=feedback,
            title=title,
            message=message,
        )
        if alert is not None:
            raised.append(alert)
    return raised


# --- resolve, snooze --------------------------------------------------------------------------
@transaction.atomic
def alert_resolve(*, actor: Actor, alert_id: int, note: Any) -> Alert:
    """Close an alert with what was done about it (a note is required)."""
    alert = alert_get(organization=actor.organization, alert_id=alert_id)
    actor.require_on(Perm.ALERT_WRITE, assignee_id=alert.assignee_id, project=alert.project)
    text = require_text(note, "note", max_length=5000)
    now = timezone.now()
    done = (
        Alert.objects.for_organization(actor.organization)
        .filter(pk=alert.pk, resolved_at__isnull=True)
        .update(resolved_at=now, resolved_by=actor.user, resolution_note=text, updated_at=now)
    )
    if done != 1:
        raise JourneyError("This alert is already resolved.", field="note", code="resolved")
    audit_record(
        actor=actor,
        action="update",
        instance=alert,
        changes={"resolved_at": [None, now.isoformat()], "resolution_note": [None, text]},
    )
    if alert.client_id is not None:  # the client's health counts its open alerts
        health_refresh(organization=actor.organization, client_ids=[alert.client_id])
    return alert_get(organization=actor.organization, alert_id=alert.pk)


@transaction.atomic
def alert_snooze(*, actor: Actor, alert_id: int, until: Any) -> Alert:
    """Hide an open alert from the inbox until a date (after today, within a year);
    `until=None` wakes it up."""
    alert = alert_get(organization=actor.organization, alert_id=alert_id)
    actor.require_on(Perm.ALERT_WRITE, assignee_id=alert.assignee_id, project=alert.project)
    if alert.resolved_at is not None:
        raise JourneyError("A resolved alert cannot be snoozed.", field="until", code="resolved")
    if until is not None and not isinstance(until, dt.date):
        parsed = parse_date(str(until)) if isinstance(until, str) else None
        if parsed is None:
            raise JourneyError("Give a date (YYYY-MM-DD).", field="until")
        until = parsed
    today = timezone.now().date()
    if until is not None and not today < until <= today + dt.timedelta(days=366):
        raise JourneyError("Snooze until a date after today and within a year.", field="until")
    before = alert.snoozed_until
    Alert.objects.for_organization(actor.organization).filter(pk=alert.pk).update(
        snoozed_until=until, updated_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="update",
        instance=alert,
        changes={
            "snoozed_until": [
                before.isoformat() if before else None,
                until.isoformat() if until else None,
            ]
        },
    )
    if alert.client_id is not None:  # the client's health counts its open alerts
        health_refresh(organization=actor.organization, client_ids=[alert.client_id])
    return alert_get(organization=actor.organization, alert_id=alert.pk)


# --- the daily rules ------------------------------------------------------------------------
def _rule_cadence(organization: Organization, now: dt.datetime) -> tuple[list[Alert], set[str]]:
    raised, causes = [], set()
    for state in client_cadence_state(organization, now):
        if now < state["due_at"]:
            continue
        client = state["client"]
        key = f"cadence:c{client.pk}:t{state['last_touch_id'] or 0}"
        causes.add(key)
        days = int((now - state["since"]).total_seconds() // 86400)
        what = "no touchpoint yet" if state["last_touch_id"] is None else "no touchpoint"
        alert = _raise(
            organization=organization,
            kind=AlertKind.CADENCE,
            cause_key=key,
            now=now,
            assignee=client.account_manager,
            client=client,
            title=f"{client.name}: {what} for {days} days (playbook: every {state['cadence']})",
            message=f"The {client.get_service_model_display().lower()} playbook expects a "
            f"touchpoint at least every {state['cadence']} days while work is open.",
        )
        if alert:
            raised.append(alert)
    return raised, causes


def _rule_stuck(organization: Organization, now: dt.datetime) -> tuple[list[Alert], set[str]]:
    raised, causes = [], set()
    for project, target, _ in stuck_projects(organization=organization, now=now):
        entered = project.phase_entered_at
        key = f"stuck:p{project.pk}:{project.phase}:{int(entered.timestamp())}"
        causes.add(key)
        days = int((now - entered).total_seconds() // 86400)
        alert = _raise(
            organization=organization,
            kind=AlertKind.STUCK,
            cause_key=key,
            now=now,
            assignee=project.project_manager or project.client.account_manager,
            client=project.client,
            project=project,
            title=f"{project.code} stuck in {project.get_phase_display().lower()}: "
            f"{days} days (target {target})",
            message=f"{project.name} entered {project.get_phase_display().lower()} on "
            f"{entered.date().isoformat()}; the playbook's target is {target} days.",
        )
        if alert:
            raised.append(alert)
    return raised, causes


def _rule_milestones(organization: Organization, now: dt.datetime) -> tuple[list[Alert], set[str]]:
    raised, causes = [], set()
    overdue = (
        Milestone.objects.for_organization(organization)
        .filter(
            open_project_q("project__"),
            completed_at__isnull=True,
            due_date__lt=now.date(),
        )
        .select_related("project__client__account_manager", "project__project_manager")
        .order_by("id")
    )
    for milestone in overdue:
        project = milestone.project
        key = f"milestone:m{milestone.pk}:{milestone.due_date.isoformat()}"
        causes.add(key)
        alert = _raise(
            organization=organization,
            kind=AlertKind.MILESTONE_OVERDUE,
            cause_key=key,
            now=now,
            assignee=project.project_manager or project.client.account_manager,
            client=project.client,
            project=project,
            milestone=milestone,
            title=f"{project.code}: '{milestone.title}' overdue since "
            f"{milestone.due_date.isoformat()}",
        )
        if alert:
            raised.append(alert)
    return raised, causes


def _rule_surveys(organization: Organization, now: dt.datetime) -> tuple[list[Alert], set[str]]:
    from django.conf import settings

    raised, causes = [], set()
    waiting = (
        Feedback.objects.for_organization(organization)
        .filter(
            score__isnull=True,
            sent_at__lte=now - dt.timedelta(days=settings.SURVEY_UNANSWERED_ALERT_DAYS),
        )
        .select_related("project__client__account_manager", "contact")
        .order_by("id")
    )
    for feedback in waiting:
        project = feedback.project
        key = f"survey:f{feedback.pk}"
        causes.add(key)
        who = feedback.contact.name if feedback.contact else project.client.name
        alert = _raise(
            organization=organization,
            kind=AlertKind.SURVEY_UNANSWERED,
            cause_key=key,
            now=now,
            assignee=project.client.account_manager,
            client=project.client,
            project=project,
            feedback=feedback,
            title=f"{who} has not answered the {feedback.kind.upper()} survey on {project.code}",
            message=f"Sent {feedback.sent_at.date().isoformat()}"
            + (
                f", reminded {feedback.reminder_sent_at.date().isoformat()}"
                if feedback.reminder_sent_at
                else ""
            )
            + ". A call often gets the answer an e-mail did not.",
        )
        if alert:
            raised.append(alert)
    return raised, causes


def _rule_senior_leader(
    organization: Organization, now: dt.datetime
) -> tuple[list[Alert], set[str]]:
    """A client with open work whose playbook wants a senior leader every N days, and none
    has joined a touchpoint for N days (counted from the first open project if none ever)."""
    playbooks = playbook_map(organization=organization)
    wanted = {
        model: pb.senior_leader_every_days
        for model, pb in playbooks.items()
        if pb.senior_leader_expected and pb.senior_leader_every_days
    }
    if not wanted:
        return [], set()
    clients = (
        clients_with_open_work(organization, now, senior_only=True)
        .filter(service_model__in=list(wanted))
        .distinct()
    )
    raised, causes = [], set()
    for client in clients:
        every = wanted[client.service_model]
        since = client.last_touch_at or client.first_open_at
        if since is None or now < since + dt.timedelta(days=every):
            continue
        key = f"senior:c{client.pk}:t{client.last_touch_id or 0}"
        causes.add(key)
        days = int((now - since).total_seconds() // 86400)
        alert = _raise(
            organization=organization,
            kind=AlertKind.SENIOR_LEADER,
            cause_key=key,
            now=now,
            assignee=client.account_manager,
            client=client,
            title=f"{client.name}: no senior leader for {days} days (playbook: every {every})",
            message=f"The {client.get_service_model_display().lower()} playbook expects a "
            f"senior leader at a touchpoint at least every {every} days while work is open.",
        )
        if alert:
            raised.append(alert)
    return raised, causes


RULES = {
    AlertKind.CADENCE: _rule_cadence,
    AlertKind.STUCK: _rule_stuck,
    AlertKind.MILESTONE_OVERDUE: _rule_milestones,
    AlertKind.SURVEY_UNANSWERED: _rule_surveys,
    AlertKind.SENIOR_LEADER: _rule_senior_leader,
}


@transaction.atomic
def alerts_run_rules(
    *, organization: Organization, now: dt.datetime | None = None
) -> dict[str, dict[str, int]]:
    """Run every daily rule for one organization: raise the alerts whose cause appeared,
    resolve the open ones whose cause is gone. Returns counts per rule."""
    now = now or timezone.now()
    report: dict[str, dict[str, int]] = {}
    batch = _Batch(organization)
    token = _BATCH.set(batch)
    try:
        outcomes = {kind: rule(organization, now) for kind, rule in RULES.items()}
    finally:
        _BATCH.reset(token)
    # A concurrent run may have raised some of them meanwhile: the open-alert constraint
    # keeps one per cause, the others are dropped.
    Alert.objects.bulk_create(batch.pending, batch_size=1000, ignore_conflicts=True)
    if batch.pending and webhook_subscribed(organization=organization, type="alert.raised"):
        # ignore_conflicts leaves the ids unset: the rows this run wrote, read back.
        _raised_emit(
            organization,
            list(
                Alert.objects.for_organization(organization).filter(
                    cause_key__in=[a.cause_key for a in batch.pending], raised_at=now
                )
            ),
        )
    for kind, (raised, causes) in outcomes.items():
        stale = (
            Alert.objects.for_organization(organization)
            .filter(kind=kind, resolved_at__isnull=True)
            .exclude(cause_key__in=causes)
        )
        cleared = stale.update(
            resolved_at=now,
            resolution_note=AUTO_RESOLVED.format(why=AlertKind(kind).label.lower()),
            updated_at=now,
        )
        report[kind] = {"raised": len(raised), "cleared": cleared}
    log.info("alert rules for %s: %s", organization.slug, report)
    return report


def last_touch_at(*, organization: Organization, client_id: int) -> dt.datetime | None:
    return (
        Touchpoint.objects.for_organization(organization)
        .filter(client_id=client_id)
        .aggregate(last=Max("at"))["last"]
    )
