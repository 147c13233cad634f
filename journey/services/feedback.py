"""Feedback: CSAT (1-5) and NPS (0-10) scores, recorded directly or requested from a contact."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict, Unpack

from django.db import transaction
from django.utils import timezone

from accounts.permissions import Actor, Perm
from engagement.entry import journey_feedback_recorded
from journey import events
from journey.changes import earliest, journey_changed
from journey.errors import JourneyError
from journey.models import (
    Contact,
    Feedback,
    FeedbackKind,
    FeedbackOrigin,
    Phase,
    PhaseTransition,
    Project,
    TransitionKind,
)
from journey.scales import score_scale
from journey.selectors import feedback_get
from journey.service_helpers import (
    UNSET,
    Unset,
    create_audited,
    delete_audited,
    given,
    require_aware,
    require_choice,
    require_not_future,
    require_text,
    resolve,
    unknown_fields,
    update_audited,
)


def phases_entered_by(project: Project, when: dt.datetime) -> set[str]:
    """The phases the project had entered at `when`, from its journal."""
    return set(
        PhaseTransition.objects.for_organization(project.organization_id)
        .filter(project=project, at__lte=when)
        .exclude(kind__in=[TransitionKind.ON_HOLD, TransitionKind.RESUMED])
        .values_list("to_phase", flat=True)
    )


def _score(value: Any, kind: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise JourneyError("Give a whole number.", field="score")
    try:
        score = int(value)
    except ValueError:
        raise JourneyError(f"'{value}' is not a whole number.", field="score") from None
    scale = score_scale(kind)
    if not scale.contains(score):
        raise JourneyError(
            f"A {kind.upper()} score runs from {scale.low} to {scale.high}.", field="score"
        )
    return score


def _clean(actor: Actor, data: dict[str, Any], current: Feedback | None) -> dict[str, Any]:
    unknown_fields(data, set(FeedbackChanges.__annotations__))
    org = actor.organization
    creating = current is None
    out: dict[str, Any] = {}
    if creating or "project" in data:
        project = resolve(Project, organization=org, pk=data.get("project"), field="project")
        if project is None:
            raise JourneyError("This field is required.", field="project")
        out["project"] = project
    project = out.get("project") or current.project
    if creating or "kind" in data:
        out["kind"] = require_choice(data.get("kind"), FeedbackKind, "kind")
    kind = out.get("kind") or current.kind
    if creating or "phase" in data:
        out["phase"] = require_choice(data.get("phase"), Phase, "phase")
    phase = out.get("phase") or current.phase
    if "contact" in data:
        contact = resolve(Contact, organization=org, pk=data["contact"], field="contact")
        if contact is not None and contact.client_id != project.client_id:
            raise JourneyError("This contact works for another client.", field="contact")
        out["contact"] = contact
    if "comment" in data:
        out["comment"] = require_text(data["comment"], "comment", max_length=20000, required=False)

    answered = data.get("score") is not None or (current is not None and current.score is not None)
    if answered:
        raw_score = data["score"] if "score" in data else current.score
        if raw_score is None:
            raise JourneyError(
                "An answered score cannot be removed; delete the feedback instead.", field="score"
            )
        out["score"] = _score(raw_score, kind)
        responded = require_aware(
            data["responded_at"]
            if "responded_at" in data
            else (current.responded_at if current else None),
            "responded_at",
        )
        require_not_future(responded, "responded_at")
        if responded < project.opened_at:
            raise JourneyError(
                "The response is before the project was opened.", field="responded_at"
            )
        out["responded_at"] = responded
        when = responded
    else:
        if data.get("responded_at") is not None:
            raise JourneyError("A response time needs a score.", field="score")
        contact = out.get("contact", current.contact if current else None)
        if contact is None:
            raise JourneyError(
                "A feedback request needs the contact to ask (or record a score with responded_at).",
                field="contact",
            )
        if not contact.email:
            # A request is sent as an e-mailed link: without an address it would never go.
            raise JourneyError(
                "This contact has no e-mail address to send the survey to.", field="contact"
            )
        when = timezone.now()
        if creating:
            out["requested_at"] = when
            out["origin"] = FeedbackOrigin.REQUEST
    if phase not in phases_entered_by(project, when):
        raise JourneyError(
            f"The project had not entered {Phase(phase).label.lower()} by {when.date().isoformat()}.",
            field="phase",
        )
    return out


class FeedbackChanges(TypedDict, total=False):
    project: int | str
    kind: str
    score: int | str | None
    phase: str
    responded_at: dt.datetime | str | None
    contact: int | str | None
    comment: str


@transaction.atomic
def feedback_create(
    *,
    actor: Actor,
    project: int | str | Project | Unset = UNSET,
    kind: str | Unset = UNSET,
    phase: str | Unset = UNSET,
    score: int | str | Unset | None = UNSET,
    responded_at: dt.datetime | str | Unset | None = UNSET,
    contact: int | str | Contact | Unset | None = UNSET,
    comment: str | Unset = UNSET,
) -> Feedback:
    """Record a score (with `responded_at`) or create a request to a contact (no score)."""
    actor.require(Perm.FEEDBACK_WRITE)
    data = given(
        project=project,
        kind=kind,
        phase=phase,
        score=score,
        responded_at=responded_at,
        contact=contact,
        comment=comment,
    )
    values = _clean(actor, data, None)
    result = create_audited(Feedback(**values), actor=actor)
    if result.score is not None:
        events.feedback_received(feedback=result)
    journey_feedback_recorded(feedback=result)  # engagement: the e-mail or the closed loop
    journey_changed(
        organization=actor.organization,
        client_ids=[result.project.client_id],
        since=result.responded_at,
        metrics=result.responded_at is not None,
    )
    return result


@transaction.atomic
def feedback_update(*, actor: Actor, feedback_id: int, **data: Unpack[FeedbackChanges]) -> Feedback:
    feedback = feedback_get(organization=actor.organization, feedback_id=feedback_id)
    actor.require(Perm.FEEDBACK_WRITE)
    values = _clean(actor, data, feedback)
    before, score_before = feedback.responded_at, feedback.score
    result = update_audited(feedback, values, actor=actor)
    if result.score is not None and result.score != score_before:
        events.feedback_received(feedback=result)
    if result.score is not None:
        journey_feedback_recorded(feedback=result)  # the closed loop (once per feedback)
    since = earliest(before, result.responded_at)
    journey_changed(
        organization=actor.organization,
        client_ids=[result.project.client_id],
        since=since,
        metrics=since is not None,
    )
    return result


@transaction.atomic
def feedback_delete(*, actor: Actor, feedback_id: int) -> None:
    feedback = feedback_get(organization=actor.organization, feedback_id=feedback_id)
    actor.require(Perm.DELETE)
    delete_audited(feedback, actor=actor)
    journey_changed(
        organization=actor.organization,
        client_ids=[feedback.project.client_id],
        since=feedback.responded_at,
        metrics=feedback.responded_at is not None,
    )
