"""Projects: opening (the journey's first entry), editing, deleting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Role
from accounts.permissions import Actor, Perm
from accounts.selectors import member_get_by_email
from journey import events
from journey.changes import journey_changed, project_since
from journey.errors import JourneyError
from journey.models import (
    Client,
    Modality,
    Phase,
    PhaseTransition,
    Project,
    ProjectStatus,
    ServiceType,
    TransitionKind,
)
from journey.selectors import project_get
from journey.service_helpers import (
    UNSET,
    Unset,
    create_audited,
    delete_audited,
    given,
    require_aware,
    require_choice,
    require_decimal,
    require_not_future,
    require_text,
    resolve,
    save_checked,
    unknown_fields,
    update_audited,
)

READ_ONLY_FIELDS = {"phase", "status", "opened_at"}


def _clean_project_values(actor: Actor, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    if not creating:
        ro = sorted(READ_ONLY_FIELDS & set(data))
        if ro:
            what = ro[0]
            hint = (
                "use a transition"
                if what in ("phase", "status")
                else "it is the journal's first entry and is set when the project is opened"
            )
            raise JourneyError(f"{what} cannot be edited here: {hint}.", field=what)
    unknown_fields(
        data, set(ProjectChanges.__annotations__) | ({"opened_at"} if creating else set())
    )
    org = actor.organization
    out: dict[str, Any] = {}
    if creating or "client" in data:
        client = resolve(Client, organization=org, pk=data.get("client"), field="client")
        if client is None:
            raise JourneyError("This field is required.", field="client")
        out["client"] = client
    if creating or "name" in data:
        out["name"] = require_text(data.get("name"), "name", max_length=200)
    if creating or "code" in data:
        out["code"] = require_text(data.get("code"), "code", max_length=40)
    if creating or "modality" in data:
        out["modality"] = require_choice(data.get("modality"), Modality, "modality")
    if "service_type" in data:
        out["service_type"] = require_choice(
            data["service_type"], ServiceType, "service_type", blank_ok=True
        )
    for person in ("project_manager", "executive_sponsor"):
        if person in data:
            out[person] = member_get_by_email(organization=org, email=data[person], field=person)
    if out.get("project_manager") is not None:
        role = (
            Membership.objects.filter(user=out["project_manager"], organization=org)
            .values_list("role", flat=True)
            .first()
        )
        if role == Role.VIEWER:
            raise JourneyError(
                f"{out['project_manager'].email} has read-only access (viewer) and cannot "
                "manage a project; give them a project manager role first.",
                field="project_manager",
            )
    if "contract_value" in data:
        out["contract_value"] = require_decimal(data["contract_value"], "contract_value")
    if "currency" in data:
        currency = require_text(data["currency"], "currency", max_length=3).upper()
        if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
            raise JourneyError(
                "Use a three-letter ISO 4217 code such as USD or EUR.", field="currency"
            )
        out["currency"] = currency
    if "description" in data:
        out["description"] = require_text(
            data["description"], "description", max_length=20000, required=False
        )
    return out


class ProjectChanges(TypedDict, total=False):
    """What a project update may change; phase and status change only by a transition, and
    `opened_at` is the journal's first entry."""

    client: int | str
    name: str
    code: str
    modality: str
    service_type: str
    project_manager: str | None
    executive_sponsor: str | None
    contract_value: Decimal | str | None
    currency: str
    description: str


@transaction.atomic
def project_open(
    *,
    actor: Actor,
    client: int | str | Client | Unset = UNSET,
    name: str | Unset = UNSET,
    code: str | Unset = UNSET,
    modality: str | Unset = UNSET,
    service_type: str | Unset = UNSET,
    project_manager: str | Unset | None = UNSET,
    executive_sponsor: str | Unset | None = UNSET,
    contract_value: Decimal | str | Unset | None = UNSET,
    currency: str | Unset = UNSET,
    description: str | Unset = UNSET,
    opened_at: dt.datetime | str | None = None,
) -> Project:
    """Open a project: it starts in assess, active, with the journal entry None -> assess.

    `opened_at` may be back-dated for imported history but never lies in the future.
    """
    actor.require(Perm.PROJECT_WRITE)
    data = given(
        client=client,
        name=name,
        code=code,
        modality=modality,
        service_type=service_type,
        project_manager=project_manager,
        executive_sponsor=executive_sponsor,
        contract_value=contract_value,
        currency=currency,
        description=description,
    )
    values = _clean_project_values(actor, data, creating=True)
    now = timezone.now()
    opened = require_aware(opened_at, "opened_at", allow_none=True) or now
    require_not_future(opened, "opened_at", now=now)
    project = Project(
        **values,
        opened_at=opened,
        phase=Phase.ASSESS,
        status=ProjectStatus.ACTIVE,
        journal_seq=1,
        phase_entered_at=opened,
    )
    create_audited(project, actor=actor)
    save_checked(
        PhaseTransition(
            organization=actor.organization,
            project=project,
            seq=1,
            kind=TransitionKind.OPENED,
            from_phase=None,
            to_phase=Phase.ASSESS,
            from_status=None,
            to_status=ProjectStatus.ACTIVE,
            at=opened,
            by=actor.user,
            note="Assessment started.",
        )
    )
    journey_changed(organization=actor.organization, client_ids=[project.client_id], since=opened)
    events.project_created(project=project)
    return project


@transaction.atomic
def project_update(*, actor: Actor, project_id: int, **data: Unpack[ProjectChanges]) -> Project:
    project = project_get(organization=actor.organization, project_id=project_id)
    actor.require(Perm.PROJECT_WRITE)
    values = _clean_project_values(actor, data, creating=False)
    before = project.client_id
    # The project's dimensions, its client and its value move its figures.
    moves = any(
        f in values and values[f] != getattr(project, f)
        for f in ("client", "modality", "project_manager", "contract_value")
    )
    since = project_since(project) if moves else None
    result = update_audited(project, values, actor=actor)
    journey_changed(
        organization=actor.organization,
        client_ids=[before, result.client_id],
        since=since,
        metrics=moves,
    )
    return result


@transaction.atomic
def project_delete(*, actor: Actor, project_id: int, reason: str = "") -> None:
    project = project_get(organization=actor.organization, project_id=project_id)
    actor.require(Perm.DELETE)
    since = project_since(project)
    delete_audited(project, actor=actor, reason=reason)
    journey_changed(organization=actor.organization, client_ids=[project.client_id], since=since)
