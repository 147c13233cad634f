"""Template helpers of the engagement pages."""

from __future__ import annotations

from django import template

register = template.Library()

COMPONENT_LABELS = {
    "feedback": "Feedback (CSAT/NPS)",
    "milestones": "On-time milestones",
    "touchpoints": "Touchpoints vs playbook",
    "alerts": "Open alerts",
    "stuck": "Projects on target",
}


@register.filter
def component_label(name: str) -> str:
    return COMPONENT_LABELS.get(name, name)
