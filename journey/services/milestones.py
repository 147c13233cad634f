"""Milestones: what a project promised to deliver, by when."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict, Unpack

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from accounts.permissions import Actor, Perm
from journey.changes import earliest, journey_changed
from journey.errors import JourneyError
from journey.models import Milestone, Phase, Project
from journey.selectors import milestone_get
from journey.service_helpers import (
    UNSET,
    Unset,
    create_audited,
    delete_audited,
    given,
    require_aware,
    require_choice,
    require_not_future,
    require_planned_date,
    require_text,
    resolve,
    unknown_fields,
    update_audited,
)


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise JourneyError("Give a date (YYYY-MM-DD), not a date-time.", field=field)
    if isinstance(value, dt.date):
        return value
    parsed = parse_date(str(value)) if value not in (None, "") else None
    if parsed is None:
        raise JourneyError(
            "This field is required."
            if value in (None, "")
            else f"'{value}' is not a date (YYYY-MM-DD).",
            field=field,
        )
    return parsed


def _clean(actor: Actor, data: dict[str, Any], current: Milestone | None) -> dict[str, Any]:
    unknown_fields(data, set(MilestoneChanges.__annotations__))
    creating = current is None
    out: dict[str, Any] = {}
    if creating or "project" in data:
        project = resolve(
            Project, organization=actor.organization, pk=data.get("project"), field="project"
        )
        if project is None:
            raise JourneyError("This field is required.", field="project")
        out["project"] = project
    project = out.get("project") or current.project
    if creating or "phase" in data:
        out["phase"] = require_choice(data.get("phase"), Phase, "phase")
    if creating or "title" in data:
        out["title"] = require_text(data.get("title"), "title", max_length=200)
    if creating or "due_date" in data:
        due = _date(data.get("due_date"), "due_date")
        require_planned_date(due, "due_date")
        if due < project.opened_at.date():
            raise JourneyError(
                f"The due date is before the project was opened ({project.opened_at.date().isoformat()}).",
                field="due_date",
            )
        out["due_date"] = due
    if "completed_at" in data:
        completed = require_aware(data["completed_at"], "completed_at", allow_none=True)
        if completed is not None:
            require_not_future(completed, "completed_at")
            if completed < project.opened_at:
                raise JourneyError("Completed before the project was opened.", field="completed_at")
        out["completed_at"] = completed
    if "notes" in data:
        out["notes"] = require_text(data["notes"], "notes", max_length=20000, required=False)
    return out


class MilestoneChanges(TypedDict, total=False):
    project: int | str
    phase: str
    title: str
    due_date: dt.date | str
    completed_at: dt.datetime | str | None
    notes: str


@transaction.atomic
def milestone_create(
    *,
    actor: Actor,
    project: int | str | Project | Unset = UNSET,
    phase: str | Unset = UNSET,
    title: str | Unset = UNSET,
    due_date: dt.date | str | Unset = UNSET,
    completed_at: dt.datetime | str | Unset | None = UNSET,
    notes: str | Unset = UNSET,
) -> Milestone:
    data = given(
        project=project,
        phase=phase,
        title=title,
        due_date=due_date,
        completed_at=completed_at,
        notes=notes,
    )
    values = _clean(actor, data, None)
    actor.require(Perm.MILESTONE_WRITE, project=values["project"])
    result = create_audited(Milestone(**values), actor=actor)
    journey_changed(
        organization=actor.organization,
        client_ids=[result.project.client_id],
        since=result.completed_at,
        metrics=result.completed_at is not None,
    )
    return result


@transaction.atomic
def milestone_update(
    *, actor: Actor, milestone_id: int, **data: Unpack[MilestoneChanges]
) -> Milestone:
    milestone = milestone_get(organization=actor.organization, milestone_id=milestone_id)
    actor.require(Perm.MILESTONE_WRITE, project=milestone.project)
    values = _clean(actor, data, milestone)
    if "project" in values:
        actor.require(Perm.MILESTONE_WRITE, project=values["project"])
    before, completed = milestone.project.client_id, milestone.completed_at
    result = update_audited(milestone, values, actor=actor)
    since = earliest(completed, result.completed_at)
    journey_changed(
        organization=actor.organization,
        client_ids=[before, result.project.client_id],
        since=since,
        metrics=since is not None,
    )
    return result


def milestone_complete(
    *, actor: Actor, milestone_id: int, completed_at: dt.datetime | None = None
) -> Milestone:
    return milestone_update(
        actor=actor, milestone_id=milestone_id, completed_at=completed_at or timezone.now()
    )


@transaction.atomic
def milestone_delete(*, actor: Actor, milestone_id: int) -> None:
    milestone = milestone_get(organization=actor.organization, milestone_id=milestone_id)
    actor.require(Perm.MILESTONE_WRITE, project=milestone.project)
    delete_audited(milestone, actor=actor)
    journey_changed(
        organization=actor.organization,
        client_ids=[milestone.project.client_id],
        since=milestone.completed_at,
        metrics=milestone.completed_at is not None,
    )
