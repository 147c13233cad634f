"""The one door from `journey` into engagement. The journey services call these two
functions, inside their transaction, after a journal entry or a feedback row is written; they
know nothing else of this app (no signals, no other import). Everything that leaves the
database is queued after commit, so a rolled-back change sends nothing."""

from __future__ import annotations

from django.db import transaction

from engagement.services.alerts import alerts_for_low_score
from engagement.services.surveys import GATE_KINDS
from engagement.tasks import survey_gate_task, survey_send_task
from journey.models import Feedback, PhaseTransition


def journey_transition_recorded(*, transition: PhaseTransition) -> None:
    """A project moved: a move that closes a phase gate gets its survey after commit."""
    if transition.kind not in GATE_KINDS:
        return
    org_id, transition_id = transition.organization_id, transition.pk
    transaction.on_commit(
        lambda: survey_gate_task.delay(organization_id=org_id, transition_id=transition_id),
        robust=True,
    )


def journey_feedback_recorded(*, feedback: Feedback) -> None:
    """A score was recorded or changed (a low one is followed up: the closed loop), or a
    request to a contact was created (its e-mail goes out after commit)."""
    if feedback.score is not None:
        alerts_for_low_score(feedback=feedback)
        return
    if feedback.sent_at is None:
        org_id, feedback_id = feedback.organization_id, feedback.pk
        transaction.on_commit(
            lambda: survey_send_task.delay(organization_id=org_id, feedback_id=feedback_id),
            robust=True,
        )
