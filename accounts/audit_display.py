"""How an audit event reads on a page: who acted, and each change as a labelled before and
after. The organization's audit log and the History cards of the client and project pages
show a change the same way (`partials/_audit_changes.html` renders the rows made here)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst

from accounts.models import AuditEvent, Organization, User

EMPTY = "—"


@dataclass(frozen=True)
class ChangeRow:
    """One field of an event: its label and its values as text (EMPTY for none). `action`
    tells the template what to show: a created row has only an after, a deleted one only a
    before."""

    field: str
    label: str
    before: str
    after: str
    action: str


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _is_reference(field: models.Field | None) -> bool:
    return field is not None and field.many_to_one and field.related_model is not None


def actor_name(event: AuditEvent) -> str:
    """Who acted, as a person reads it: the user's name (e-mail without one), the API key's
    name, or "system" (with what ran, when it said)."""
    if event.actor_user_id and event.actor_user:
        return event.actor_user.get_full_name()
    if event.actor_api_key_id and event.actor_api_key:
        return f"API key “{event.actor_api_key.name}”"
    label = event.actor_label or ""
    if label.startswith("api-key:"):
        return f"API key “{label.removeprefix('api-key:')}”"
    if "@" in label:  # a member since removed: their e-mail as it was
        return label
    return "system" if label in ("", "system") else f"system ({label})"


def _references(
    events: Iterable[AuditEvent], organization: Organization, skip: dict[str, set[str]]
) -> dict[type[models.Model], dict[int, str]]:
    """The names of the rows the page's changes refer to (a client's account manager, a
    project's client): one query per kind of row referred to, inside the organization."""
    wanted: dict[type[models.Model], set[int]] = defaultdict(set)
    for event in events:
        model = _model(event.object_type)
        for name, pair in (event.changes or {}).items():
            field = _field(model, name)
            if name in skip.get(event.object_type, ()) or not _is_reference(field):
                continue
            for value in pair if isinstance(pair, list | tuple) else ():
                if isinstance(value, int) and not isinstance(value, bool):
                    wanted[field.related_model].add(value)
    names: dict[type[models.Model], dict[int, str]] = {}
    for model, ids in wanted.items():
        if issubclass(model, User):
            # Members of this organization, past ones included: the ids came from its events.
            rows = User.objects.filter(pk__in=ids).only("id", "email", "full_name")
            names[model] = {u.pk: u.get_full_name() for u in rows}
        elif hasattr(model.objects, "for_organization"):
            rows = model.objects.for_organization(organization).filter(pk__in=ids)
            names[model] = {row.pk: str(row) for row in rows}
    return names


def _blank(value: Any) -> bool:
    return value is None or value is False or value == "" or value == []


def _text(value: Any, field: models.Field | None, names: dict, tz: dt.tzinfo) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if _is_reference(field):
        return names.get(field.related_model, {}).get(value, f"#{value}")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def audit_present(
    events: list[AuditEvent],
    *,
    organization: Organization,
    skip: dict[str, set[str]] | None = None,
) -> list[AuditEvent]:
    """Give each event `who` (see `actor_name`) and `rows` (its changes as `ChangeRow`s:
    human labels, choice labels, names for references, times in the organization's time
    zone). Fields people never set (a journal counter) and `skip`'s fields per object type
    are left out. A constant number of queries, whatever the number of events."""
    skip = skip or {}
    names = _references(events, organization, skip)
    try:
        tz = zoneinfo.ZoneInfo(organization.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    for event in events:
        model = _model(event.object_type)
        rows = []
        for name, pair in (event.changes or {}).items():
            field = _field(model, name)
            if name in skip.get(event.object_type, ()) or (
                field is not None and not field.editable
            ):
                continue
            before, after = (
                pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
            )
            if event.action == AuditEvent.Action.CREATE and _blank(after):
                continue  # a field left empty (or off) at creation is no news
            if event.action == AuditEvent.Action.DELETE and _blank(before):
                continue
            label = (
                capfirst(str(field.verbose_name))
                if field is not None
                else capfirst(name.replace("_", " "))
            )
            rows.append(
                ChangeRow(
                    field=name,
                    label=label,
                    before=_text(before, field, names, tz),
                    after=_text(after, field, names, tz),
                    action=event.action,
                )
            )
        event.who = actor_name(event)
        event.rows = rows
    return events
