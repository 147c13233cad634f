"""Template helpers of the engagement pages."""

from __future__ import annotations

from django import template
from django.conf import settings

from engagement.models import ClientHealthCurrent

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
    """The stored health of the clients a list shows, by client id: one query for the page
    (a list of journey's renders the engagement app's figure without importing it)."""
    request = context["request"]
    ids = [c.pk for c in clients]
    if not ids or getattr(request, "organization", None) is None:
        return {}
    rows = (
        ClientHealthCurrent.objects.for_organization(request.organization)
        .filter(client_id__in=ids)
        .values_list("client_id", "score")
    )
    return {
        client_id: {
            "score": score,
            "at_risk": score is not None and score < settings.HEALTH_AT_RISK_BELOW,
        }
        for client_id, score in rows
    }


@register.filter
def health_of(scores: dict, client_id):
    return scores.get(client_id)
