"""Gate surveys: feedback requests e-mailed to the client's primary contact with a link that
opens a public page, answered once, without login.

The link's token is `<organization public id>.<secrets.token_urlsafe(32)>` (256 random bits)
and lives only in the e-mail: the database keeps the SHA-256 of the whole token. The public id
names the organization, so the page looks the link up inside it (`.` is in neither the
urlsafe alphabet nor the public id's, and stays as it is in a URL path). A request may have
two links (the invitation and the one reminder); all of them die when the request is
answered or expires (`expires_at`). Sending is a Celery task that runs after the request's
transaction commits; it can run twice (the conditional update on `sent_at` lets one of them
send). The e-mail itself is an outbox row written with `sent_at` (`accounts.outbox`): sent
after that commit, and retried until the mail server takes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Organization
from accounts.outbox import email_enqueue
from accounts.permissions import Actor
from accounts.selectors import organization_get_by_public_id
from accounts.tenancy import TenantQuerySet, organization_scope
from engagement.models import SurveyLink
from engagement.services.alerts import alerts_for_low_score
from engagement.services.health import health_refresh
from engagement.services.playbooks import gate_surveys_enabled
from journey.errors import JourneyError
from journey.events import feedback_received
from journey.models import (
    Contact,
    Feedback,
    FeedbackKind,
    FeedbackOrigin,
    PhaseTransition,
    TransitionKind,
)
from journey.scales import score_scale
from journey.service_helpers import create_audited, require_text
from metrics.services import metrics_request_recompute

log = logging.getLogger(__name__)

# The moves that close a gate: leaving a phase forward, and the completion.
GATE_KINDS = (TransitionKind.WON, TransitionKind.ADVANCED, TransitionKind.COMPLETED)
MAX_TOKEN_LENGTH = 128
ORGANIZATION_SEPARATOR = "."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def survey_url(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('survey', args=[token])}"


def _new_link(organization: Organization, feedback: Feedback, purpose: str) -> str:
    """A fresh token for the request, led by the organization's public id; only its hash is
    stored."""
    token = f"{organization.public_id}{ORGANIZATION_SEPARATOR}{secrets.token_urlsafe(32)}"
    SurveyLink.objects.create(
        organization=organization,
        feedback=feedback,
        token_hash=token_hash(token),
        purpose=purpose,
    )
    return token


def _expiry(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=settings.SURVEY_LINK_DAYS)


def _mail(feedback: Feedback, token: str, *, reminder: bool) -> None:
    project = feedback.project
    context = {
        "contact": feedback.contact,
        "project": project,
        "organization": project.organization,
        "kind": feedback.kind,
        "url": survey_url(token),
        "expires_at": feedback.expires_at,
        "reminder": reminder,
        "phase_label": feedback.get_phase_display(),
    }
    subject = ("Reminder: " if reminder else "") + (
        f"How likely are you to recommend us? ({project.name})"
        if feedback.kind == FeedbackKind.NPS
        else f"How did the {feedback.get_phase_display().lower()} phase go? ({project.name})"
    )
    # A header carries no line break from user text (a project's name could hold one).
    subject = " ".join(subject.split())
    email_enqueue(
        organization=project.organization,
        to=[feedback.contact.email],
        subject=subject,
        body=render_to_string("engagement/surveys/email.txt", context),
        html_body=render_to_string("engagement/surveys/email.html", context),
    )


# --- requests -------------------------------------------------------------------------------
def survey_gate_request(
    *,
    organization: Organization,
    transition_id: int,
    now: dt.datetime | None = None,
    send: bool = True,
) -> Feedback | None:
    """Create and send the survey of the gate a journal entry closed (CSAT when a phase is
    left, NPS at completion), or log why not. Idempotent: one survey per gate.
    `send=False` creates the request only (the caller sends it)."""
    now = now or timezone.now()
    transition = (
        PhaseTransition.objects.for_organization(organization)
        .filter(pk=transition_id)
        .select_related("project__client")
        .first()
    )
    if transition is None or transition.kind not in GATE_KINDS:
        log.info("gate survey: transition %s is gone or closes no gate", transition_id)
        return None
    project = transition.project
    client = project.client
    phase = transition.from_phase
    kind = FeedbackKind.NPS if transition.kind == TransitionKind.COMPLETED else FeedbackKind.CSAT
    where = f"{project.code} leaving {phase}"
    if transition.at < now - dt.timedelta(days=settings.SURVEY_GATE_MAX_AGE_DAYS):
        log.info("gate survey skipped (%s): the move is back-dated (history)", where)
        return None
    if not gate_surveys_enabled(organization=organization, service_model=client.service_model):
        log.info("gate survey skipped (%s): turned off for %s", where, client.service_model)
        return None
    contact = (
        Contact.objects.for_organization(organization)
        .filter(client=client, is_primary=True)
        .first()
    )
    if contact is None:
        log.info("gate survey skipped (%s): %s has no primary contact", where, client.name)
        return None
    if not contact.email:
        log.info("gate survey skipped (%s): primary contact %s has no e-mail", where, contact.pk)
        return None
    gate = Feedback.objects.for_organization(organization).filter(
        project=project, phase=phase, kind=kind, origin=FeedbackOrigin.GATE
    )
    feedback = gate.first()
    if feedback is None:
        try:
            with transaction.atomic():
                feedback = create_audited(
                    Feedback(
                        project=project,
                        contact=contact,
                        phase=phase,
                        kind=kind,
                        origin=FeedbackOrigin.GATE,
                        requested_at=now,
                        expires_at=_expiry(now),
                    ),
                    actor=Actor.system(organization, label="gate survey"),
                )
        except (IntegrityError, JourneyError):
            feedback = gate.first()  # a concurrent run created it
    if feedback is not None and send:
        survey_send(organization=organization, feedback_id=feedback.pk, now=now)
    return feedback


@transaction.atomic
def survey_send(
    *,
    organization: Organization,
    feedback_id: int,
    now: dt.datetime | None = None,
    deliver: bool = True,
) -> str | None:
    """E-mail a request's invitation link, once (a second call sends nothing: None).

    Returns the new link's token, which exists nowhere else once the e-mail is gone.
    `deliver=False` records the send without e-mailing (seeding the demo)."""
    now = now or timezone.now()
    feedback = (
        Feedback.objects.for_organization(organization)
        .filter(pk=feedback_id)
        .select_related("contact", "project__organization")
        .first()
    )
    if feedback is None or feedback.score is not None or feedback.sent_at is not None:
        return None
    if feedback.contact is None or not feedback.contact.email:
        log.info("survey %s not sent: the contact has no e-mail", feedback_id)
        return None
    expires = feedback.expires_at or _expiry(now)
    claimed = (
        Feedback.objects.for_organization(organization)
        .filter(pk=feedback.pk, sent_at__isnull=True, score__isnull=True)
        .update(sent_at=now, expires_at=expires, updated_at=now)
    )
    if claimed != 1:
        return None
    feedback.sent_at, feedback.expires_at = now, expires
    token = _new_link(organization, feedback, "invite")
    if deliver:
        # An outbox row in this transaction: sent after commit, retried until it goes out.
        _mail(feedback, token, reminder=False)
    return token


def survey_send_reminders(
    *, organization: Organization, now: dt.datetime | None = None, deliver: bool = True
) -> int:
    """Send the one reminder of every request unanswered `SURVEY_REMINDER_DAYS` after it was
    sent and not yet expired; the number sent. Safe to run twice a day."""
    now = now or timezone.now()
    due = (
        Feedback.objects.for_organization(organization)
        .filter(
            score__isnull=True,
            sent_at__lte=now - dt.timedelta(days=settings.SURVEY_REMINDER_DAYS),
            reminder_sent_at__isnull=True,
            expires_at__gt=now,
        )
        .exclude(contact__isnull=True)
        .exclude(contact__email="")
        .select_related("contact", "project__organization")
        .order_by("id")
    )
    sent = 0
    for feedback in due:
        with transaction.atomic():
            claimed = (
                Feedback.objects.for_organization(organization)
                .filter(pk=feedback.pk, reminder_sent_at__isnull=True, score__isnull=True)
                .update(reminder_sent_at=now, updated_at=now)
            )
            if claimed != 1:
                continue
            feedback.reminder_sent_at = now
            token = _new_link(organization, feedback, "reminder")
            if deliver:
                _mail(feedback, token, reminder=True)
            sent += 1
    return sent


# --- the public page ------------------------------------------------------------------------
@dataclass(frozen=True)
class SurveyState:
    """What a link leads to: `open` (the form), `answered`, `expired` or `unknown`."""

    status: str
    feedback: Feedback | None = None
    link: SurveyLink | None = None


def _link_find(token: str) -> SurveyLink | None:
    """The link of a token: inside the organization its public id names, by the hash of the
    whole token (so another organization's public id in front of a real secret finds
    nothing)."""
    links = SurveyLink.objects.select_related(
        "feedback__project__client", "feedback__contact", "organization"
    )
    public_id, separator, _secret = token.partition(ORGANIZATION_SEPARATOR)
    if not separator:
        return _link_find_legacy(links, token)
    organization = organization_get_by_public_id(public_id=public_id)
    if organization is None:
        return None
    with organization_scope(organization):
        return links.for_organization(organization).filter(token_hash=token_hash(token)).first()


def survey_token_organization(*, token: Any) -> int | None:
    """The organization a token's link belongs to (None: no such link). The public page
    enters its scope before anything else: the token is the credential that names it."""
    if not isinstance(token, str) or not 20 <= len(token) <= MAX_TOKEN_LENGTH:
        return None
    link = _link_find(token)
    return link.organization_id if link is not None else None


def _link_find_legacy(links: TenantQuerySet, token: str) -> SurveyLink | None:
    """A link e-mailed before tokens carried their organization (a bare `token_urlsafe(32)`,
    which never contains the separator): by the hash alone, across organizations, with its
    own index. A hash is unique only per organization now, so a hash found twice opens
    nothing. Such links die with their request's expiry (`SURVEY_LINK_DAYS` after they were
    sent), so this path can go once every link sent before the change has expired."""
    found = list(links.unscoped_dangerously().filter(token_hash=token_hash(token))[:2])
    return found[0] if len(found) == 1 else None


def survey_lookup(*, token: Any, now: dt.datetime | None = None) -> SurveyState:
    """The request behind a token. The token is the only credential, so this is the one read
    that starts without an organization: the token names it (`_link_find`)."""
    now = now or timezone.now()
    if not isinstance(token, str) or not 20 <= len(token) <= MAX_TOKEN_LENGTH:
        return SurveyState("unknown")
    link = _link_find(token)
    if link is None:
        return SurveyState("unknown")
    feedback = link.feedback
    if feedback.score is not None:
        return SurveyState("answered", feedback, link)
    if feedback.expires_at is None or feedback.expires_at <= now:
        return SurveyState("expired", feedback, link)
    return SurveyState("open", feedback, link)


def _score(value: Any, kind: str) -> int:
    scale = score_scale(kind)
    message = f"Choose a score from {scale.low} to {scale.high}."
    if value is None or value == "":
        raise JourneyError(message, field="score", code="required")
    try:
        score = int(str(value).strip())
    except ValueError:
        raise JourneyError(message, field="score") from None
    if not scale.contains(score):
        raise JourneyError(message, field="score")
    return score


@transaction.atomic
def survey_answer(
    *, token: Any, score: Any, comment: Any = "", now: dt.datetime | None = None
) -> Feedback:
    """Record the answer behind a link, once. A used, expired or unknown link is refused
    (`code` says which); a low score closes the loop with alerts."""
    now = now or timezone.now()
    state = survey_lookup(token=token, now=now)
    if state.status != "open":
        raise JourneyError(
            {
                "unknown": "This survey link is not valid.",
                "answered": "This survey has already been answered. Thank you!",
                "expired": "This survey link has expired.",
            }[state.status],
            field="token",
            code=state.status,
        )
    feedback = state.feedback
    value = _score(score, feedback.kind)
    text = require_text(comment, "comment", max_length=5000, required=False)
    if "\x00" in text:  # PostgreSQL refuses NUL in text: a clear error, not a 500
        raise JourneyError("The comment contains a character that is not allowed.", field="comment")
    organization = state.link.organization
    answered = (
        Feedback.objects.for_organization(organization)
        .filter(pk=feedback.pk, score__isnull=True, expires_at__gt=now)
        .update(score=value, comment=text, responded_at=now, updated_at=now)
    )
    if answered != 1:  # answered a moment ago through another link or tab
        raise JourneyError(
            "This survey has already been answered. Thank you!", field="token", code="answered"
        )
    SurveyLink.objects.for_organization(organization).filter(pk=state.link.pk).update(
        opened_at=now, updated_at=now
    )
    feedback.score, feedback.comment, feedback.responded_at = value, text, now
    contact = feedback.contact
    audit_record(
        actor=Actor.system(
            organization, label=f"survey link ({contact.email if contact else '-'})"
        ),
        action="update",
        instance=feedback,
        changes={
            "score": [None, value],
            "comment": [None, text],
            "responded_at": [None, now.isoformat()],
        },
    )
    feedback_received(feedback=feedback)
    alerts_for_low_score(feedback=feedback, now=now)
    metrics_request_recompute(organization=organization, since=now)
    health_refresh(organization=organization, client_ids=[feedback.project.client_id], now=now)
    return feedback
