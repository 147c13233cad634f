"""Clients (sponsors) and their contacts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import Role
from accounts.permissions import Actor, Perm
from accounts.selectors import member_get_by_email
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
    create_audited,
    delete_audited,
    require_choice,
    require_text,
    resolve,
    unknown_fields,
    update_audited,
)
from metrics.services import metrics_request_recompute

CLIENT_FIELDS = {
    "name",
    "segment",
    "size_band",
    "modalities",
    "service_model",
    "account_manager",
    "region",
    "status",
    "notes",
}


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
    unknown_fields(data, CLIENT_FIELDS)
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
    elif creating and actor.role == Role.ACCOUNT_MANAGER and actor.user is not None:
        # An account manager who opens a client without naming its manager owns it.
        out["account_manager"] = actor.user
    if "region" in data:
        out["region"] = require_choice(data["region"], Region, "region", blank_ok=True)
    if "status" in data:
        out["status"] = require_choice(data["status"], ClientStatus, "status")
    if "notes" in data:
        out["notes"] = require_text(data["notes"], "notes", max_length=20000, required=False)
    return out


@transaction.atomic
def client_create(*, actor: Actor, **data: Any) -> Client:
    """Create a client. The service model defaults from the segment (pharma: transactional)."""
    actor.require(Perm.CLIENT_WRITE)
    values = _clean_client_values(actor, data, creating=True)
    return create_audited(Client(**values), actor=actor)


@transaction.atomic
def client_update(*, actor: Actor, client_id: int, **data: Any) -> Client:
    client = client_get(organization=actor.organization, client_id=client_id)
    actor.require(Perm.CLIENT_WRITE)
    values = _clean_client_values(actor, data, creating=False)
    result = update_audited(client, values, actor=actor)
    metrics_request_recompute(organization=actor.organization)
    return result


@transaction.atomic
def client_delete(*, actor: Actor, client_id: int) -> None:
    client = client_get(organization=actor.organization, client_id=client_id)
    actor.require(Perm.DELETE)
    delete_audited(client, actor=actor)
    metrics_request_recompute(organization=actor.organization)


# --- contacts -------------------------------------------------------------------------------
CONTACT_FIELDS = {"client", "name", "email", "title", "phone", "is_primary"}


def _clean_contact_values(actor: Actor, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    unknown_fields(data, CONTACT_FIELDS)
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


@transaction.atomic
def contact_create(*, actor: Actor, **data: Any) -> Contact:
    actor.require(Perm.CONTACT_WRITE)
    values = _clean_contact_values(actor, data, creating=True)
    contact = Contact(**values)
    if contact.is_primary:
        _demote_other_primary(actor, contact)
    return create_audited(contact, actor=actor)


@transaction.atomic
def contact_update(*, actor: Actor, contact_id: int, **data: Any) -> Contact:
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
