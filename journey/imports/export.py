"""An organization's data as files in the import format, one per kind: what moving an
organization (or its history) into another takes. References are by name, code and e-mail
(ids mean nothing in another organization); the journal is its moves after the opening
entry, in order, and a project's phase and status follow from them on import."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from accounts.models import Organization
from journey.imports.kinds import KINDS
from journey.models import (
    Client,
    Contact,
    Feedback,
    Milestone,
    PhaseTransition,
    Project,
    Touchpoint,
    TransitionKind,
)

# A journal entry's kind -> the `to` of the move that makes it (None: its phase).
_TO = {
    TransitionKind.LOST: "lost",
    TransitionKind.COMPLETED: "completed",
    TransitionKind.CANCELLED: "cancelled",
    TransitionKind.ON_HOLD: "on_hold",
    TransitionKind.RESUMED: "active",
}


def _time(value) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else ""


def _email(user) -> str:
    return user.email if user is not None else ""


def _csv(kind: str, rows: Iterable[dict[str, object]]) -> bytes:
    columns = KINDS[kind].columns
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue().encode("utf-8")


def export_organization(*, organization: Organization) -> dict[str, bytes]:
    """Every kind's file, in the order they import (clients before their contacts, ...)."""
    org = organization
    clients = Client.objects.for_organization(org).select_related("account_manager").order_by("pk")
    contacts = Contact.objects.for_organization(org).select_related("client").order_by("pk")
    projects = (
        Project.objects.for_organization(org)
        .select_related("client", "project_manager", "executive_sponsor")
        .order_by("opened_at", "pk")
    )
    journal = (
        PhaseTransition.objects.for_organization(org)
        .exclude(kind=TransitionKind.OPENED)
        .select_related("project")
        .order_by("at", "project_id", "seq")
    )
    milestones = Milestone.objects.for_organization(org).select_related("project").order_by("pk")
    touchpoints = (
        Touchpoint.objects.for_organization(org)
        .select_related("client", "project", "by")
        .order_by("at", "pk")
    )
    feedback = (
        Feedback.objects.for_organization(org)
        .filter(score__isnull=False)
        .select_related("project", "contact")
        .order_by("responded_at", "pk")
    )
    return {
        "clients": _csv(
            "clients",
            (
                {
                    "name": c.name,
                    "segment": c.segment,
                    "size_band": c.size_band,
                    "modalities": ", ".join(c.modalities or []),
                    "service_model": c.service_model,
                    "account_manager": _email(c.account_manager),
                    "region": c.region,
                    "status": c.status,
                    "notes": c.notes,
                }
                for c in clients
            ),
        ),
        "contacts": _csv(
            "contacts",
            (
                {
                    "client": c.client.name,
                    "name": c.name,
                    "email": c.email,
                    "title": c.title,
                    "phone": c.phone,
                    "is_primary": "true" if c.is_primary else "false",
                }
                for c in contacts
            ),
        ),
        "projects": _csv(
            "projects",
            (
                {
                    "client": p.client.name,
                    "name": p.name,
                    "code": p.code,
                    "modality": p.modality,
                    "service_type": p.service_type,
                    "project_manager": _email(p.project_manager),
                    "executive_sponsor": _email(p.executive_sponsor),
                    "contract_value": p.contract_value,
                    "currency": p.currency,
                    "description": p.description,
                    "opened_at": _time(p.opened_at),
                }
                for p in projects
            ),
        ),
        # Ordered by time across projects (each project's moves stay in journal order):
        # a file a person could also have kept by hand.
        "transitions": _csv(
            "transitions",
            (
                {
                    "project": t.project.code,
                    "to": _TO.get(t.kind, t.to_phase),
                    "at": _time(t.at),
                    "note": t.note,
                    "reason": t.reason,
                }
                for t in journal
            ),
        ),
        "milestones": _csv(
            "milestones",
            (
                {
                    "project": m.project.code,
                    "phase": m.phase,
                    "title": m.title,
                    "due_date": m.due_date.isoformat(),
                    "completed_at": _time(m.completed_at),
                    "notes": m.notes,
                }
                for m in milestones
            ),
        ),
        "touchpoints": _csv(
            "touchpoints",
            (
                {
                    "client": t.client.name,
                    "project": t.project.code if t.project else "",
                    "kind": t.kind,
                    "at": _time(t.at),
                    "by": _email(t.by),
                    "senior_leader_present": "true" if t.senior_leader_present else "false",
                    "summary": t.summary,
                }
                for t in touchpoints
            ),
        ),
        "feedback": _csv(
            "feedback",
            (
                {
                    "project": f.project.code,
                    "phase": f.phase,
                    "kind": f.kind,
                    "score": f.score,
                    "comment": f.comment,
                    "contact": f.contact.email if f.contact and f.contact.email else "",
                    "responded_at": _time(f.responded_at),
                }
                for f in feedback
            ),
        ),
    }
