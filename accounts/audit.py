"""The audit journal's one writer. Services call `audit_record` inside their transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import models

from accounts.models import AuditEvent
from accounts.permissions import Actor


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The audited fields of a row as JSON-ready values (foreign keys as ids)."""
    out: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in {"id", "organization", "created_at", "updated_at"}:
            continue
        if fields is not None and field.name not in fields:
            continue
        out[field.name] = _jsonable(getattr(instance, field.attname))
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def audit_record(
    *,
    actor: Actor,
    action: str,
    instance: models.Model,
    changes: dict[str, list[Any]],
    reason: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        organization=actor.organization,
        actor_user=actor.user,
        actor_api_key_id=actor.api_key_id,
        actor_label=actor.label[:255],
        action=action,
        object_type=instance._meta.label_lower,
        object_id=instance.pk,
        object_repr=str(instance)[:255],
        changes=changes,
        reason=reason,
    )
