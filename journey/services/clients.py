"""Clients (sponsors) and their contacts."""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import Role
from accounts.permissions import Actor, Perm
from accounts.selectors import member_get_by_email
from journey.changes import client_since, journey_changed
from journey.errors import JourneyError
from journey.models import (
    Client,
    ClientStatus,
    Contact,
    Modality,
    Region,
    Segment,
    ServiceModel,
    SizeBand,
)
from journey.selectors import client_get, contact_get
from journey.service_helpers import (
    UNSET,
    Unset,
    create_audited,
    delete_audited,
    given,
    require_choice,
    require_text,
    resolve,
    unknown_fields,
    update_audited,
)


def _clean_modalities(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise JourneyError("Give a list of modalities.", field="modalities")
    bad = [v for v in value if v not in Modality.values]
    if bad:
        raise JourneyError(
            f"Unknown modality '{bad[0]}'. Choose from: {', '.join(Modality.values)}.",
            field="modalities",
        )
    # Keep the user's order, drop repeats.
    return list(dict.fromkeys(value))


def _clean_client_values(actor: Actor, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    unknown_fields(data, set(ClientChanges.__annotations__))
    out: dict[str, Any] = {}
    if creating or "name" in data:
        out["name"] = require_text(data.get("name"), "name", max_length=200)
    if creating or "segment" in data:
        out["segment"] = require_choice(data.get("segment"), Segment, "segment")
    if "size_band" in data:
        out["size_band"] = require_choice(data["size_band"], SizeBand, "size_band", blank_ok=True)
    if "modalities" in data:
        out["modalities"] = _clean_modalities(data["modalities"])
    if "service_model" in data and data["service_model"] not in (None, ""):
        out["service_model"] = require_choice(data["service_model"], ServiceModel, "service_model")
    elif creating:
        out["service_model"] = ServiceModel.default_for(out["segment"])
    if "account_manager" in data:
        out["account_manager"] = member_get_by_email(
            organization=actor.organization, email=data["account_manager"], field="account_manager"
        )
    if "region" in data:
        out["region"] = require_choice(data["region"], Region, "region", blank_ok=True)
    if "status" in data:
        out["status"] = require_choice(data["status"], ClientStatus, "status")
    if "notes" in data:
        out["notes"] = require_text(data["notes"], "notes", max_length=20000, required=False)
    return out


class ClientChanges(TypedDict, total=False):
    """The fields a client update may change (users by e-mail)."""

    name: str
    segment: str
    size_band: str
    modalities: list[str]
    service_model: str
    account_manager: str | None
    region: str
    status: str
    notes: str


def client_create_defaults(*, actor: Actor) -> dict[str, str]:
    """What a new client gets when the caller names nothing: an account manager's new client
    is theirs (the form shows it, the service applies it)."""
    if actor.role == Role.ACCOUNT_MANAGER and actor.user is not None:
        return {"account_manager": actor.user.email}
    return {}


@transaction.atomic
def client_create(
    *,
    actor: Actor,
    name: str | Unset = UNSET,
    segment: str | Unset = UNSET,
    size_band: str | Unset = UNSET,
    modalities: list[str] | Unset = UNSET,
    service_model: str | Unset = UNSET,
    account_manager: str | Unset | None = UNSET,
    region: str | Unset = UNSET,
    status: str | Unset = UNSET,
    notes: str | Unset = UNSET,
) -> Client:
    """Create a client. The service model defaults from the segment (pharma: transactional);
    the account manager from `client_create_defaults`."""
    actor.require(Perm.CLIENT_WRITE)
    data = given(
        name=name,
        segment=segment,
        size_band=size_band,
        modalities=modalities,
        service_model=service_model,
        account_manager=account_manager,
        region=region,
        status=status,
        notes=notes,
    )
    values = _clean_client_values(
        actor, {**client_create_defaults(actor=actor), **data}, creating=True
    )
    client = create_audited(Client(**values), actor=actor)
    journey_changed(
        organization=actor.organization, client_ids=[client.pk], since=None, metrics=False
    )
    return client


@transaction.atomic
def client_update(*, actor: Actor, client_id: int, **data: Unpack[ClientChanges]) -> Client:
    client = client_get(organization=actor.organization, client_id=client_id)
    actor.require(Perm.CLIENT_WRITE)
    values = _clean_client_values(actor, data, creating=False)
    # The client's dimensions (segment, service model, account manager) move its figures.
    dimensions = any(
        f in values and values[f] != getattr(client, f)
        for f in ("segment", "service_model", "account_manager")
    )
    since = client_since(client) if dimensions else None
    result = update_audited(client, values, actor=actor)
    journey_changed(
        organization=actor.organization,
        client_ids=[client.pk],
        since=since,
        metrics=since is not None,
    )
    return result


@transaction.atomic
def client_delete(*, actor: Actor, client_id: int) -> None:
    client = client_get(organization=actor.organization, client_id=client_id)
    actor.require(Perm.DELETE)
    since = client_since(client)
    delete_audited(client, actor=actor)
    journey_changed(
        organization=actor.organization, client_ids=[], since=since, metrics=since is not None
    )


# --- contacts -------------------------------------------------------------------------------


def _clean_contact_values(actor: Actor, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    unknown_fields(data, set(ContactChanges.__annotations__))
    out: dict[str, Any] = {}
    if creating or "client" in data:
        client = resolve(
            Client, organization=actor.organization, pk=data.get("client"), field="client"
        )
        if client is None:
            raise JourneyError("This field is required.", field="client")
        out["client"] = client
    if creating or "name" in data:
        out["name"] = require_text(data.get("name"), "name", max_length=200)
    if "email" in data:
        email = require_text(data["email"], "email", max_length=254, required=False).lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise JourneyError(
                    f"'{email}' is not a valid e-mail address.", field="email"
                ) from None
        out["email"] = email
    for name, limit in (("title", 200), ("phone", 50)):
        if name in data:
            out[name] = require_text(data[name], name, max_length=limit, required=False)
    if "is_primary" in data:
        if not isinstance(data["is_primary"], bool):
            raise JourneyError("Must be true or false.", field="is_primary")
        out["is_primary"] = data["is_primary"]
    return out


def _demote_other_primary(actor: Actor, contact: Contact) -> None:
    """A client has one primary contact: naming a new one demotes the old (audited)."""
    others = Contact.objects.for_organization(actor.organization).filter(
        client_id=contact.client_id, is_primary=True
    )
    if contact.pk:
        others = others.exclude(pk=contact.pk)
    for other in others:
        update_audited(other, {"is_primary": False}, actor=actor)


class ContactChanges(TypedDict, total=False):
    client: int | str
    name: str
    email: str
    title: str
    phone: str
    is_primary: bool


@transaction.atomic
def contact_create(
    *,
    actor: Actor,
    client: int | str | Client | Unset = UNSET,
    name: str | Unset = UNSET,
    email: str | Unset = UNSET,
    title: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    is_primary: bool | Unset = UNSET,
) -> Contact:
    actor.require(Perm.CONTACT_WRITE)
    data = given(
        client=client, name=name, email=email, title=title, phone=phone, is_primary=is_primary
    )
    values = _clean_contact_values(actor, data, creating=True)
    contact = Contact(**values)
    if contact.is_primary:
        _demote_other_primary(actor, contact)
    return create_audited(contact, actor=actor)


@transaction.atomic
def contact_update(*, actor: Actor, contact_id: int, **data: Unpack[ContactChanges]) -> Contact:
    contact = contact_get(organization=actor.organization, contact_id=contact_id)
    actor.require(Perm.CONTACT_WRITE)
    values = _clean_contact_values(actor, data, creating=False)
    if values.get("is_primary"):
        probe = Contact(pk=contact.pk, client=values.get("client", contact.client))
        _demote_other_primary(actor, probe)
    return update_audited(contact, values, actor=actor)


@transaction.atomic
def contact_delete(*, actor: Actor, contact_id: int) -> None:
    contact = contact_get(organization=actor.organization, contact_id=contact_id)
    actor.require(Perm.CONTACT_WRITE)
    delete_audited(contact, actor=actor)
