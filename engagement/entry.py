"""The one door from `journey` into engagement. The journey services call these functions,
inside their transaction, after they wrote: a journal entry, a feedback row, or any change to
a client's work (`journey.changes`); they know nothing else of this app (no signals, no other
import). What follows is written as outbox rows in the same transaction (`accounts.outbox`)
and run after commit, so a rolled-back change does nothing and a broker outage loses
nothing."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Organization
from accounts.outbox import task_enqueue
from engagement.services.alerts import alerts_for_low_score
from engagement.services.surveys import GATE_KINDS
from engagement.tasks import HEALTH_REFRESH_TASK
from journey.models import Feedback, PhaseTransition


def journey_transition_recorded(*, transition: PhaseTransition) -> None:
    """A project moved: a move that closes a phase gate gets its survey after commit."""
    if transition.kind not in GATE_KINDS:
        return
    task_enqueue(
        organization=transition.organization_id,
        task="engagement.tasks.survey_gate_task",
        kwargs={"organization_id": transition.organization_id, "transition_id": transition.pk},
    )


def journey_feedback_recorded(*, feedback: Feedback) -> None:
    """A score was recorded or changed (a low one is followed up: the closed loop), or a
    request to a contact was created (its e-mail goes out after commit)."""
    if feedback.score is not None:
        alerts_for_low_score(feedback=feedback)
        return
    if feedback.sent_at is None:
        task_enqueue(
            organization=feedback.organization_id,
            task="engagement.tasks.survey_send_task",
            kwargs={"organization_id": feedback.organization_id, "feedback_id": feedback.pk},
        )


def journey_clients_changed(
    *, organization: Organization, client_ids: Iterable[int | None]
) -> None:
    """These clients' work changed: their stored health is recomputed after commit (one
    task per transaction and organization, with every client the transaction touched; calls
    waiting together merge)."""
    ids = sorted({int(i) for i in client_ids if i is not None})
    if not ids:
        return
    task_enqueue(
        organization=organization,
        task=HEALTH_REFRESH_TASK,
        kwargs={"organization_id": organization.pk, "client_ids": ids},
        dedupe_key="health-refresh",
    )
