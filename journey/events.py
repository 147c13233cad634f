"""The journey's webhook events (`accounts.webhooks`), rendered as the API renders the
object. The services call these inside their transaction, after they wrote; the rendering
only happens when an endpoint of the organization subscribes to the event."""

from __future__ import annotations

from accounts.webhooks import webhook_emit
from journey.api.serializers import FeedbackOut, ProjectOut, TransitionOut
from journey.models import Feedback, PhaseTransition, Project


def project_created(*, project: Project) -> None:
    webhook_emit(
        organization=project.organization_id,
        type="project.created",
        data=lambda: ProjectOut(project).data,
    )


def project_moved(*, project: Project, transition: PhaseTransition) -> None:
    """`project.transition`: the project as it is after the move, plus the journal entry."""
    webhook_emit(
        organization=project.organization_id,
        type="project.transition",
        data=lambda: {**ProjectOut(project).data, "transition": TransitionOut(transition).data},
    )


def feedback_received(*, feedback: Feedback) -> None:
    """`feedback.received`: a score was recorded (typed, imported or a survey's answer)."""
    webhook_emit(
        organization=feedback.organization_id,
        type="feedback.received",
        data=lambda: FeedbackOut(feedback).data,
    )
