"""The one door from `journey` into engagement. The journey services call these functions,
inside their transaction, after they wrote: a journal entry, a feedback row, or any change to
a client's work (`journey.changes`); they know nothing else of this app (no signals, no other
import). Everything runs or is queued after commit, so a rolled-back change does nothing."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from accounts.models import Organization
from engagement.services.alerts import alerts_for_low_score
from engagement.services.surveys import GATE_KINDS
from engagement.tasks import health_refresh_task, survey_gate_task, survey_send_task
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


def journey_clients_changed(
    *, organization: Organization, client_ids: Iterable[int | None]
) -> None:
    """These clients' work changed: their stored health is recomputed after commit (one task
    per transaction and organization, with every client the transaction touched)."""
    ids = {int(i) for i in client_ids if i is not None}
    if not ids:
        return
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        health_refresh_task.delay(organization_id=organization.pk, client_ids=sorted(ids))
        return
    # One callback per transaction and organization, carrying the ids (a rolled-back
    # transaction drops its callbacks, and with them the ids).
    for _sids, func, _robust in conn.run_on_commit:
        if getattr(func, "health_organization_id", None) == organization.pk:
            func.client_ids |= ids
            return
    org_id = organization.pk

    def refresh() -> None:
        health_refresh_task.delay(organization_id=org_id, client_ids=sorted(refresh.client_ids))

    refresh.health_organization_id = org_id  # type: ignore[attr-defined]
    refresh.client_ids = set(ids)  # type: ignore[attr-defined]
    transaction.on_commit(refresh, robust=True)
