"""Every write to the journey domain. Each service checks the actor's role, works inside the
actor's organization, runs in one transaction and writes its audit event in it."""

from journey.services.clients import (
    client_create,
    client_create_defaults,
    client_delete,
    client_update,
    contact_create,
    contact_delete,
    contact_update,
)
from journey.services.feedback import feedback_create, feedback_delete, feedback_update
from journey.services.milestones import (
    milestone_complete,
    milestone_create,
    milestone_delete,
    milestone_update,
)
from journey.services.projects import project_delete, project_open, project_update
from journey.services.touchpoints import touchpoint_create, touchpoint_delete, touchpoint_update
from journey.services.transitions import allowed_moves, plan_move, project_transition

__all__ = [
    "allowed_moves",
    "client_create",
    "client_create_defaults",
    "client_delete",
    "client_update",
    "contact_create",
    "contact_delete",
    "contact_update",
    "feedback_create",
    "feedback_delete",
    "feedback_update",
    "milestone_complete",
    "milestone_create",
    "milestone_delete",
    "milestone_update",
    "plan_move",
    "project_delete",
    "project_open",
    "project_transition",
    "project_update",
    "touchpoint_create",
    "touchpoint_delete",
    "touchpoint_update",
]
