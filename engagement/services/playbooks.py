"""Playbooks per service model and the organization's engagement settings.

A playbook says how a service model is served: the longest gap between touchpoints per
phase, the target duration of each phase, and how often a senior leader should join. Every
organization starts from the defaults below; a row is created the first time someone edits
or lists them, and readers that only need the figures use the defaults without writing.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Organization
from accounts.permissions import Actor
from engagement.models import EngagementSettings, Playbook
from journey.errors import JourneyError
from journey.models import Phase, ServiceModel
from journey.selectors import _get
from journey.service_helpers import create_audited
from metrics.selectors import metric_medians_over_time

# Consultative clients (biotech, academic) want a partner who is in it with them: a touch a
# week while work runs. Transactional clients (big/mid pharma) want process: a monthly touch.
DEFAULT_PLAYBOOKS: dict[str, dict[str, Any]] = {
    ServiceModel.CONSULTATIVE: {
        "cadence_days": {"assess": 14, "initiate": 7, "plan": 7, "execute": 7, "close_out": 14},
        "target_days": {"assess": 45, "initiate": 21, "plan": 35, "execute": 160, "close_out": 30},
        "senior_leader_expected": True,
        "senior_leader_every_days": 30,
        "notes": "A partner in it with them: weekly touch while work runs, a senior leader monthly.",
    },
    ServiceModel.TRANSACTIONAL: {
        "cadence_days": {"assess": 30, "initiate": 30, "plan": 30, "execute": 30, "close_out": 30},
        "target_days": {"assess": 75, "initiate": 30, "plan": 45, "execute": 180, "close_out": 35},
        "senior_leader_expected": True,
        "senior_leader_every_days": 90,
        "notes": "Process first: a monthly touch, an executive review every quarter.",
    },
}

HEALTH_COMPONENTS = ("feedback", "milestones", "touchpoints", "alerts", "stuck")
DEFAULT_HEALTH_WEIGHTS = {
    "feedback": 30,
    "milestones": 20,
    "touchpoints": 20,
    "alerts": 15,
    "stuck": 15,
}
MAX_DAYS = 3650


def _default(organization: Organization, service_model: str) -> Playbook:
    spec = DEFAULT_PLAYBOOKS[service_model]
    return Playbook(
        organization=organization,
        service_model=service_model,
        cadence_days=dict(spec["cadence_days"]),
        target_days=dict(spec["target_days"]),
        senior_leader_expected=spec["senior_leader_expected"],
        senior_leader_every_days=spec["senior_leader_every_days"],
        notes=spec["notes"],
    )


def playbook_map(*, organization: Organization) -> dict[str, Playbook]:
    """The playbook of every service model: stored rows, defaults (unsaved) for the rest."""
    stored = {
        p.service_model: p for p in Playbook.objects.for_organization(organization).order_by("id")
    }
    return {sm: stored.get(sm) or _default(organization, sm) for sm in ServiceModel.values}


def playbook_list(*, organization: Organization):
    return Playbook.objects.for_organization(organization).order_by("service_model", "id")


def playbook_get(*, organization: Organization, playbook_id) -> Playbook:
    return _get(Playbook.objects.for_organization(organization), playbook_id, "playbook")


def playbooks_ensure(*, organization: Organization) -> list[Playbook]:
    """Create the default playbook of every service model the organization lacks (idempotent:
    two concurrent callers end with one row each, the unique constraint decides)."""
    actor = Actor.system(organization, label="playbook defaults")
    existing = set(
        Playbook.objects.for_organization(organization).values_list("service_model", flat=True)
    )
    for service_model in ServiceModel.values:
        if service_model in existing:
            continue
        try:
            with transaction.atomic():
                create_audited(_default(organization, service_model), actor=actor)
        except (IntegrityError, JourneyError):
            pass  # created meanwhile by someone else
    return list(playbook_list(organization=organization))


def _days(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise JourneyError("Give a whole number of days (or null for no rule).", field=field)
    try:
        days = int(value)
    except ValueError:
        raise JourneyError(f"'{value}' is not a whole number of days.", field=field) from None
    if not 1 <= days <= MAX_DAYS:
        raise JourneyError(f"Between 1 and {MAX_DAYS} days.", field=field)
    return days


def _phase_days(value: Any, current: dict, field: str) -> dict[str, int | None]:
    if not isinstance(value, dict):
        raise JourneyError('An object of days per phase, e.g. {"execute": 7}.', field=field)
    out = {p: current.get(p) for p in Phase.order()}
    for phase, days in value.items():
        if phase not in Phase.values:
            raise JourneyError(
                f"'{phase}' is not a phase. Choose from: {', '.join(Phase.order())}.", field=field
            )
        out[phase] = _days(days, field)
    return out


def playbook_target_suggestions(
    *, organization: Organization, service_model: str
) -> dict[str, dict[str, float | int | bool | None]]:
    """p50 of the time projects of this service model spent in each phase: the stored
    `phase_duration_days.<phase>` of that service model (one definition of a stay,
    `journey.stays`, computed by the metrics engine), over every month on record. Several
    months pool as the dashboard does: their medians weighted by n (`exact` False)."""
    if service_model not in ServiceModel.values:
        raise JourneyError(f"'{service_model}' is not a service model.", field="service_model")
    stored = metric_medians_over_time(
        organization=organization,
        keys=[f"phase_duration_days.{phase}" for phase in Phase.order()],
        dimension="service_model",
        dimension_value=service_model,
    )
    out: dict[str, dict[str, float | int | bool | None]] = {}
    for phase in Phase.order():
        value, n, exact = stored[f"phase_duration_days.{phase}"]
        out[phase] = {"p50": value, "n": n, "exact": exact}
    return out


# --- engagement settings --------------------------------------------------------------------
def engagement_settings_get(*, organization: Organization) -> EngagementSettings:
    """The organization's settings; an unsaved default row until an admin changes one."""
    row = EngagementSettings.objects.for_organization(organization).first()
    return row or EngagementSettings(organization=organization)


def health_weights(*, organization: Organization) -> dict[str, int]:
    stored = engagement_settings_get(organization=organization).health_weights or {}
    return {c: int(stored.get(c, DEFAULT_HEALTH_WEIGHTS[c])) for c in HEALTH_COMPONENTS}


def gate_surveys_enabled(*, organization: Organization, service_model: str) -> bool:
    disabled = engagement_settings_get(organization=organization).gate_surveys_disabled_for
    return service_model not in (disabled or [])
