"""The journey state machine: every move of a project is one journal entry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.audit import audit_record
from accounts.permissions import Actor, Perm
from engagement.entry import journey_transition_recorded
from journey import events
from journey.changes import journey_changed
from journey.errors import JourneyError
from journey.models import (
    STATUS_TARGETS,
    TARGETS,
    Phase,
    PhaseTransition,
    Project,
    ProjectStatus,
    TransitionKind,
)
from journey.selectors import project_get
from journey.service_helpers import (
    readable_time,
    require_aware,
    require_not_future,
    save_checked,
)
from journey.stays import NON_MOVES


@dataclass(frozen=True)
class Move:
    kind: str
    to_phase: str
    to_status: str


def _phase_label(phase: str) -> str:
    return Phase(phase).label


def plan_move(project: Project, to: str, *, actor: Actor, reason: str = "") -> Move:
    """Decide what moving `project` to `to` means, or refuse with a clear message.

    The single place where the journey's rules live: one step forward at a time, the
    assessment ends won (assess -> initiate) or lost, close-out ends completed, any open
    project can be cancelled, holds pause without changing the phase, and only an admin,
    giving a reason, may move backwards or skip.
    """
    if to not in TARGETS:
        raise JourneyError(
            f"'{to}' is not a move. Choose a phase ({', '.join(Phase.order())}) or one of: "
            f"{', '.join(STATUS_TARGETS)}.",
            field="to",
        )
    phase, status = project.phase, project.status
    if status in ProjectStatus.terminal():
        raise JourneyError(
            f"The project is {ProjectStatus(status).label.lower()}; a closed project makes no further moves.",
            field="to",
            code="terminal",
        )
    if to == "on_hold":
        if status == ProjectStatus.ON_HOLD:
            raise JourneyError("The project is already on hold.", field="to")
        return Move(TransitionKind.ON_HOLD, phase, ProjectStatus.ON_HOLD)
    if to == "active":
        if status != ProjectStatus.ON_HOLD:
            raise JourneyError(
                "The project is not on hold, so there is nothing to resume.", field="to"
            )
        return Move(TransitionKind.RESUMED, phase, ProjectStatus.ACTIVE)
    if to == "cancelled":
        return Move(TransitionKind.CANCELLED, phase, ProjectStatus.CANCELLED)
    if status == ProjectStatus.ON_HOLD:
        raise JourneyError(
            "The project is on hold; resume it (move to 'active') first.", field="to"
        )
    if to == "lost":
        if phase != Phase.ASSESS:
            raise JourneyError(
                "Only an assessment can be lost; a project past assess is cancelled instead.",
                field="to",
            )
        return Move(TransitionKind.LOST, phase, ProjectStatus.LOST)
    if to == "completed":
        if phase != Phase.CLOSE_OUT:
            raise JourneyError(
                f"A project is completed from close-out; this one is in {_phase_label(phase).lower()}.",
                field="to",
            )
        return Move(TransitionKind.COMPLETED, phase, ProjectStatus.COMPLETED)
    # A phase.
    step = Phase.index(to) - Phase.index(phase)
    if step == 0:
        raise JourneyError(f"The project is already in {_phase_label(phase).lower()}.", field="to")
    if step == 1:
        kind = TransitionKind.WON if phase == Phase.ASSESS else TransitionKind.ADVANCED
        return Move(kind, to, ProjectStatus.ACTIVE)
    # Backward or skipping: a correction, for admins only, with a reason.
    direction = "back" if step < 0 else "past a phase"
    if not actor.has(Perm.CORRECT_JOURNEY):
        nxt = Phase.order()[Phase.index(phase) + 1] if phase != Phase.CLOSE_OUT else None
        hint = (
            f"the next phase is {_phase_label(nxt).lower()}" if nxt else "it can only be completed"
        )
        raise JourneyError(
            f"Projects move one phase at a time: from {_phase_label(phase).lower()} {hint}. "
            f"Only an admin can move {direction}, giving a reason.",
            field="to",
            code="not_allowed",
        )
    if not reason.strip():
        raise JourneyError(
            f"Moving {direction} corrects the journey; give a reason.", field="reason"
        )
    return Move(TransitionKind.CORRECTED, to, ProjectStatus.ACTIVE)


def allowed_moves(project: Project, *, actor: Actor) -> list[str]:
    """The targets `plan_move` would accept for this actor (admin corrections excluded)."""
    if not actor.has(Perm.PROJECT_TRANSITION, project=project):
        return []
    out = []
    for target in TARGETS:
        try:
            move = plan_move(project, target, actor=actor)
        except JourneyError:
            continue
        if move.kind != TransitionKind.CORRECTED:
            out.append(target)
    return out


@transaction.atomic
def project_transition(
    *,
    actor: Actor,
    project_id: int,
    to: str,
    at: dt.datetime | str | None = None,
    note: str = "",
    reason: str = "",
    follow_up: bool = True,
) -> Project:
    """Move a project along the journey; the journal is the source of every phase date.

    `at` may be back-dated but not in the future nor before the previous entry. Phase and
    status change in the same transaction as the journal entry, guarded by a conditional
    update on the journal sequence: of two concurrent moves exactly one wins and the other
    is refused, with nothing written. The engagement app hears of the entry through its one
    entry point (a gate survey after commit); `follow_up=False` skips that for a seeding
    script that writes its own.
    """
    organization = actor.organization
    project = project_get(organization=organization, project_id=project_id)
    actor.require(Perm.PROJECT_TRANSITION, project=project)
    now = timezone.now()
    when = require_aware(at, "at", allow_none=True) or now
    require_not_future(when, "at", now=now)
    note = (note or "").strip()
    reason = (reason or "").strip()
    move = plan_move(project, to, actor=actor, reason=reason)
    previous = (
        PhaseTransition.objects.for_organization(organization)
        .filter(project=project)
        .order_by("-seq")
        .values_list("at", flat=True)
        .first()
    )
    if previous is not None and when < previous:
        raise JourneyError(
            f"{readable_time(when)} is before the previous move of this project "
            f"({readable_time(previous)}); moves are recorded in order.",
            field="at",
        )
    seq = project.journal_seq
    # The latest journal entry in the project's phase, holds and resumes aside: the board's
    # order and the stuck rule read it from the project.
    entered_at = project.phase_entered_at if move.kind in NON_MOVES else when
    updated = (
        Project.objects.for_organization(organization)
        .filter(pk=project.pk, journal_seq=seq)
        .update(
            phase=move.to_phase,
            status=move.to_status,
            journal_seq=F("journal_seq") + 1,
            phase_entered_at=entered_at,
            updated_at=now,
        )
    )
    if updated != 1:
        raise JourneyError(
            "Someone else moved this project a moment ago; reload it and try again.",
            field="to",
            code="conflict",
        )
    entry = save_checked(
        PhaseTransition(
            organization=organization,
            project=project,
            seq=seq + 1,
            kind=move.kind,
            from_phase=project.phase,
            to_phase=move.to_phase,
            from_status=project.status,
            to_status=move.to_status,
            at=when,
            by=actor.user,
            note=note,
            reason=reason,
        )
    )
    changes = {"at": [None, when.isoformat()], "kind": [None, move.kind]}
    if project.phase != move.to_phase:
        changes["phase"] = [project.phase, move.to_phase]
    if project.status != move.to_status:
        changes["status"] = [project.status, move.to_status]
    project.phase, project.status, project.journal_seq = move.to_phase, move.to_status, seq + 1
    project.phase_entered_at = entered_at
    audit_record(actor=actor, action="transition", instance=project, changes=changes, reason=reason)
    journey_changed(organization=actor.organization, client_ids=[project.client_id], since=when)
    events.project_moved(project=project, transition=entry)
    if follow_up:
        journey_transition_recorded(transition=entry)
    return project
