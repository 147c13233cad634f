"""Touchpoints: interactions with a client, optionally about one of its projects."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict, Unpack

from django.db import transaction

from accounts.permissions import Actor, Perm
from accounts.selectors import member_get_by_email
from journey.changes import earliest, journey_changed
from journey.errors import JourneyError
from journey.models import Client, Project, Touchpoint, TouchpointKind
from journey.selectors import touchpoint_get
from journey.service_helpers import (
    UNSET,
    Unset,
    create_audited,
    delete_audited,
    given,
    require_aware,
    require_choice,
    require_not_future,
    require_text,
    resolve,
    unknown_fields,
    update_audited,
)


def _clean(actor: Actor, data: dict[str, Any], current: Touchpoint | None) -> dict[str, Any]:
    unknown_fields(data, set(TouchpointChanges.__annotations__))
    org = actor.organization
    creating = current is None
    out: dict[str, Any] = {}
    if creating or "client" in data:
        client = resolve(Client, organization=org, pk=data.get("client"), field="client")
        if client is None:
            raise JourneyError("This field is required.", field="client")
        out["client"] = client
    if "project" in data:
        out["project"] = resolve(Project, organization=org, pk=data["project"], field="project")
    client = out.get("client") or current.client
    project = out["project"] if "project" in out else (current.project if current else None)
    if project is not None and project.client_id != client.pk:
        raise JourneyError(f"Project {project.code} belongs to another client.", field="project")
    if creating or "kind" in data:
        out["kind"] = require_choice(data.get("kind"), TouchpointKind, "kind")
    if creating or "at" in data:
        at = require_aware(data.get("at"), "at")
        require_not_future(at, "at")
        out["at"] = at
    if "by" in data:
        out["by"] = member_get_by_email(organization=org, email=data["by"], field="by")
    elif creating:
        out["by"] = actor.user
    if "senior_leader_present" in data:
        if not isinstance(data["senior_leader_present"], bool):
            raise JourneyError("Must be true or false.", field="senior_leader_present")
        out["senior_leader_present"] = data["senior_leader_present"]
    if "summary" in data:
        out["summary"] = require_text(data["summary"], "summary", max_length=20000, required=False)
    return out


class TouchpointChanges(TypedDict, total=False):
    client: int | str
    project: int | str | None
    kind: str
    at: dt.datetime | str
    by: str | None
    senior_leader_present: bool
    summary: str


@transaction.atomic
def touchpoint_create(
    *,
    actor: Actor,
    client: int | str | Client | Unset = UNSET,
    project: int | str | Project | Unset | None = UNSET,
    kind: str | Unset = UNSET,
    at: dt.datetime | str | Unset = UNSET,
    by: str | Unset | None = UNSET,
    senior_leader_present: bool | Unset = UNSET,
    summary: str | Unset = UNSET,
) -> Touchpoint:
    """Log an interaction; `by` defaults to the acting user (none for an API key)."""
    data = given(
        client=client,
        project=project,
        kind=kind,
        at=at,
        by=by,
        senior_leader_present=senior_leader_present,
        summary=summary,
    )
    values = _clean(actor, data, None)
    actor.require(Perm.TOUCHPOINT_WRITE, project=values.get("project"))
    result = create_audited(Touchpoint(**values), actor=actor)
    journey_changed(organization=actor.organization, client_ids=[result.client_id], since=result.at)
    return result


@transaction.atomic
def touchpoint_update(
    *, actor: Actor, touchpoint_id: int, **data: Unpack[TouchpointChanges]
) -> Touchpoint:
    touchpoint = touchpoint_get(organization=actor.organization, touchpoint_id=touchpoint_id)
    actor.require(Perm.TOUCHPOINT_WRITE, project=touchpoint.project)
    values = _clean(actor, data, touchpoint)
    if "project" in values:
        actor.require(Perm.TOUCHPOINT_WRITE, project=values["project"])
    before, at = touchpoint.client_id, touchpoint.at
    result = update_audited(touchpoint, values, actor=actor)
    journey_changed(
        organization=actor.organization,
        client_ids=[before, result.client_id],
        since=earliest(at, result.at),
    )
    return result


@transaction.atomic
def touchpoint_delete(*, actor: Actor, touchpoint_id: int) -> None:
    touchpoint = touchpoint_get(organization=actor.organization, touchpoint_id=touchpoint_id)
    actor.require(Perm.TOUCHPOINT_WRITE, project=touchpoint.project)
    delete_audited(touchpoint, actor=actor)
    journey_changed(
        organization=actor.organization, client_ids=[touchpoint.client_id], since=touchpoint.at
    )
