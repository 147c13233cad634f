"""Changing how engagement works for an organization (admins): a playbook, the health
weights, gate surveys. A change moves every client's health, so the stored health is
refreshed after commit (`health_refresh_all_task`, through the outbox)."""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

from django.db import transaction

from accounts.models import Organization
from accounts.outbox import task_enqueue
from accounts.permissions import Actor, Perm
from engagement.models import EngagementSettings, Playbook
from engagement.services.playbooks import (
    HEALTH_COMPONENTS,
    _days,
    _phase_days,
    health_weights,
    playbook_get,
)
from journey.errors import JourneyError
from journey.models import ServiceModel
from journey.service_helpers import create_audited, require_text, unknown_fields, update_audited


def _refresh_health_after_commit(organization: Organization) -> None:
    # An outbox row in this transaction (run after commit; refreshes waiting together: one).
    task_enqueue(
        organization=organization,
        task="engagement.tasks.health_refresh_all_task",
        kwargs={"organization_id": organization.pk},
        dedupe_key="health-refresh-all",
    )


class PlaybookChanges(TypedDict, total=False):
    cadence_days: dict[str, int | None]
    target_days: dict[str, int | None]
    senior_leader_expected: bool
    senior_leader_every_days: int | None
    notes: str


@transaction.atomic
def playbook_update(*, actor: Actor, playbook_id: int, **data: Unpack[PlaybookChanges]) -> Playbook:
    """Change a playbook (admins). Day maps are merged: `{"execute": 5}` changes one phase."""
    playbook = playbook_get(organization=actor.organization, playbook_id=playbook_id)
    actor.require(Perm.ENGAGEMENT_MANAGE)
    unknown_fields(data, set(PlaybookChanges.__annotations__))
    values: dict[str, Any] = {}
    if "cadence_days" in data:
        values["cadence_days"] = _phase_days(
            data["cadence_days"], playbook.cadence_days, "cadence_days"
        )
    if "target_days" in data:
        values["target_days"] = _phase_days(
            data["target_days"], playbook.target_days, "target_days"
        )
    if "senior_leader_expected" in data:
        if not isinstance(data["senior_leader_expected"], bool):
            raise JourneyError("true or false.", field="senior_leader_expected")
        values["senior_leader_expected"] = data["senior_leader_expected"]
    if "senior_leader_every_days" in data:
        values["senior_leader_every_days"] = _days(
            data["senior_leader_every_days"], "senior_leader_every_days"
        )
    if "notes" in data:
        values["notes"] = require_text(data["notes"], "notes", max_length=5000, required=False)
    expected = values.get("senior_leader_expected", playbook.senior_leader_expected)
    every = values.get("senior_leader_every_days", playbook.senior_leader_every_days)
    if expected and every is None:
        raise JourneyError(
            "Say how often a senior leader should join (days).", field="senior_leader_every_days"
        )
    result = update_audited(playbook, values, actor=actor)
    _refresh_health_after_commit(actor.organization)
    return result


class EngagementSettingsChanges(TypedDict, total=False):
    gate_surveys_disabled_for: list[str]
    health_weights: dict[str, int]


@transaction.atomic
def engagement_settings_update(
    *, actor: Actor, **data: Unpack[EngagementSettingsChanges]
) -> EngagementSettings:
    """Turn gate surveys off (or on) per service model; set the health weights (admins).

    `gate_surveys_disabled_for` is the full list of service models without gate surveys;
    `health_weights` merges (`{"alerts": 0}` drops a component from the score)."""
    actor.require(Perm.ENGAGEMENT_MANAGE)
    unknown_fields(data, set(EngagementSettingsChanges.__annotations__))
    organization = actor.organization
    row = EngagementSettings.objects.for_organization(organization).first()
    if row is None:
        row = create_audited(EngagementSettings(), actor=actor)
    values: dict[str, Any] = {}
    if "gate_surveys_disabled_for" in data:
        models_ = data["gate_surveys_disabled_for"]
        if not isinstance(models_, list | tuple) or any(
            m not in ServiceModel.values for m in models_
        ):
            raise JourneyError(
                f"A list of service models ({', '.join(ServiceModel.values)}).",
                field="gate_surveys_disabled_for",
            )
        values["gate_surveys_disabled_for"] = sorted(set(models_))
    if "health_weights" in data:
        weights = data["health_weights"]
        if not isinstance(weights, dict):
            raise JourneyError("An object of weight per component.", field="health_weights")
        merged = health_weights(organization=organization)
        for name, weight in weights.items():
            if name not in HEALTH_COMPONENTS:
                raise JourneyError(
                    f"'{name}' is not a health component ({', '.join(HEALTH_COMPONENTS)}).",
                    field="health_weights",
                )
            if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
                raise JourneyError(
                    "Weights are whole numbers from 0 to 100.", field="health_weights"
                )
            merged[name] = weight
        if not any(merged.values()):
            raise JourneyError("At least one weight must be above 0.", field="health_weights")
        values["health_weights"] = merged
    result = update_audited(row, values, actor=actor)
    _refresh_health_after_commit(actor.organization)
    return result
