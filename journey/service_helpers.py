"""Plumbing shared by the services of journey and the apps above it: ids resolved inside the
organization, database constraints turned into domain errors, input checks, audited writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.audit import audit_record, diff, snapshot
from accounts.models import Organization
from accounts.permissions import Actor
from journey.errors import JourneyError

M = TypeVar("M", bound=models.Model)


class Unset:
    """The value of a keyword a caller did not give (None may be a real value: "clear it")."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = Unset()


def given(**values: Any) -> dict[str, Any]:
    """The keywords a caller gave (those not UNSET), for the services' field cleaning."""
    return {name: value for name, value in values.items() if value is not UNSET}


def resolve(model: type[M], *, organization: Organization, pk: Any, field: str) -> M | None:
    """An id from the request body, looked up in the caller's organization (else a 400)."""
    if pk is None or pk == "":
        return None
    if isinstance(pk, model):
        pk = pk.pk
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise JourneyError(f"'{pk}' is not a valid id.", field=field) from None
    if not 0 < pk < 2**63:
        raise JourneyError(
            f"No {model._meta.verbose_name} with id {pk} in this organization.", field=field
        )
    obj = model.objects.for_organization(organization).filter(pk=pk).first()
    if obj is None:
        raise JourneyError(
            f"No {model._meta.verbose_name} with id {pk} in this organization.", field=field
        )
    return obj


def constraint_error(model: type[models.Model], exc: IntegrityError) -> JourneyError:
    """Turn a database constraint violation into the domain error users can read."""
    text = str(exc)
    fields = getattr(model, "constraint_fields", {})

    def error_for(constraint) -> JourneyError:
        field = fields.get(constraint.name)
        message = constraint.violation_error_message
        if message == constraint.default_violation_error_message:
            message = (
                f"Invalid value for {field}." if field else "This change breaks a rule of the data."
            )
        return JourneyError(str(message), field=field, code=constraint.name)

    for constraint in model._meta.constraints:
        if constraint.name in text:
            return error_for(constraint)
    # SQLite names the columns of a plain UNIQUE failure rather than the constraint.
    table = model._meta.db_table
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            columns = (model._meta.get_field(f).column for f in constraint.fields)
            if ", ".join(f"{table}.{c}" for c in columns) in text:
                return error_for(constraint)
    if "FOREIGN KEY" in text.upper():
        return JourneyError("A referenced record does not exist.", code="foreign_key")
    return JourneyError("This change conflicts with existing data.", code="integrity")


def save_checked(instance: M, **kwargs) -> M:
    """Save inside a savepoint; a violated constraint becomes a JourneyError, nothing saved."""
    try:
        with transaction.atomic():
            instance.save(**kwargs)
    except IntegrityError as exc:
        raise constraint_error(type(instance), exc) from None
    return instance


def require_aware(value: Any, field: str, *, allow_none: bool = False) -> dt.datetime | None:
    if value is None:
        if allow_none:
            return None
        raise JourneyError("This field is required.", field=field)
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(value)
        if parsed is None:
            raise JourneyError(f"'{value}' is not an ISO 8601 date-time.", field=field)
        value = parsed
    if not isinstance(value, dt.datetime):
        raise JourneyError("Expected a date-time.", field=field)
    if timezone.is_naive(value):
        raise JourneyError(
            "Give the time with a time zone (e.g. 2025-03-01T09:00:00Z).", field=field
        )
    return value


def require_planned_date(value: dt.date, field: str) -> None:
    """A planned date: from 1990-01-01 to ten years ahead."""
    today = timezone.now().date()
    try:
        latest = today.replace(year=today.year + PLANNING_YEARS)
    except ValueError:  # 29 February, ten years on
        latest = today.replace(year=today.year + PLANNING_YEARS, day=28)
    if value < EARLIEST_EVENT.date() or value > latest:
        raise JourneyError(
            f"{value.isoformat()} is out of range: plan between 1990-01-01 and "
            f"{latest.isoformat()} (ten years ahead).",
            field=field,
        )


def readable_time(value: dt.datetime) -> str:
    """A time as people read it in a message: '2025-03-01 09:00 UTC' (seconds if any)."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC" if value.second else "%Y-%m-%d %H:%M UTC")


# The journey's era: no event of a CDMO's history lies before it (a year 1 `opened_at` would
# spread one project's figures over two thousand years of months).
EARLIEST_EVENT = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
# How far ahead a plan (a due date) may reach.
PLANNING_YEARS = 10


def require_not_future(value: dt.datetime, field: str, *, now: dt.datetime | None = None) -> None:
    """A past event: not in the future, and not before 1990-01-01."""
    now = now or timezone.now()
    if value < EARLIEST_EVENT:
        raise JourneyError(
            f"{readable_time(value)} is before 1990-01-01; give the real date of the event.",
            field=field,
        )
    if value > now:
        raise JourneyError(
            f"{readable_time(value)} is in the future; only past or present times are accepted.",
            field=field,
        )


def require_choice(
    value: Any, choices: type[models.TextChoices], field: str, *, blank_ok: bool = False
) -> str:
    if blank_ok and (value is None or value == ""):
        return ""
    if value not in choices.values:
        raise JourneyError(
            f"'{value}' is not a valid choice. Choose one of: {', '.join(choices.values)}.",
            field=field,
        )
    return value


def require_text(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise JourneyError("This field may not be blank.", field=field)
    if len(text) > max_length:
        raise JourneyError(f"At most {max_length} characters.", field=field)
    return text


def require_decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise JourneyError(f"'{value}' is not a number.", field=field) from None
    if not number.is_finite() or number < 0:
        raise JourneyError("Must be zero or a positive amount.", field=field)
    if number.as_tuple().exponent < -2:
        raise JourneyError("At most two decimal places.", field=field)
    if abs(number) >= Decimal(10) ** 14:
        raise JourneyError("Amount too large.", field=field)
    return number


def unknown_fields(data: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise JourneyError(f"Unknown or read-only field(s): {', '.join(extra)}.", field=extra[0])


def create_audited(instance: M, *, actor: Actor) -> M:
    instance.organization = actor.organization
    save_checked(instance)
    audit_record(
        actor=actor,
        action="create",
        instance=instance,
        changes={k: [None, v] for k, v in snapshot(instance).items()},
    )
    return instance


def update_audited(instance: M, values: dict[str, Any], *, actor: Actor, reason: str = "") -> M:
    """Set the given fields, save only what changed, and journal before/after."""
    before = snapshot(instance)
    for name, value in values.items():
        setattr(instance, name, value)
    after = snapshot(instance)
    changes = diff(before, after)
    if changes:
        changed_fields = [instance._meta.get_field(name).name for name in changes]
        save_checked(instance, update_fields=[*changed_fields, "updated_at"])
        audit_record(
            actor=actor, action="update", instance=instance, changes=changes, reason=reason
        )
    return instance


def delete_audited(instance: models.Model, *, actor: Actor, reason: str = "") -> None:
    before = snapshot(instance)
    pk = instance.pk
    try:
        with transaction.atomic():
            instance.delete()
    except (models.ProtectedError, models.RestrictedError) as exc:
        blocking = getattr(exc, "protected_objects", None) or exc.restricted_objects
        names = sorted({str(o) for o in blocking})[:3]
        raise JourneyError(
            f"Cannot delete {instance}: it still has {len(blocking)} related "
            f"record(s) ({', '.join(names)}). Delete or move them first.",
            code="protected",
        ) from None
    instance.pk = pk
    audit_record(
        actor=actor,
        action="delete",
        instance=instance,
        changes={k: [v, None] for k, v in before.items()},
        reason=reason,
    )
