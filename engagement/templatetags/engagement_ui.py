"""Template helpers of the engagement pages."""

from __future__ import annotations

from django import template

from engagement.services.health import client_health_scores, is_at_risk

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


@register.simple_tag(takes_context=True)
def health_scores(context, clients) -> dict:
    """The stored health of the clients a list shows, by client id (one query, through the
    health service): a list of journey's shows engagement's figure without importing it."""
    organization = getattr(context["request"], "organization", None)
    ids = [c.pk for c in clients]
    if not ids or organization is None:
        return {}
    scores = client_health_scores(organization=organization, client_ids=ids)
    return {
        client_id: {"score": score, "at_risk": is_at_risk(score)}
        for client_id, score in scores.items()
    }


@register.filter
def health_of(scores: dict, client_id):
    return scores.get(client_id)
