"""Webhooks: an organization's endpoints, the events they receive, and their delivery.

- `webhook_emit` (called by the services of the apps above, in the transaction of the
  cause) writes one outbox row per active endpoint subscribed to the event, each carrying
  the event's `webhook-id` (fixed now: the same on every retry) and body. A rolled-back
  cause sends nothing.
- The outbox performs a row with `webhook_perform` (registered for the kind `webhook`): a
  POST of `{"type", "timestamp", "data"}` signed as the Standard Webhooks specification says
  (`standardwebhooks`), 10 s timeout, no redirects. Every attempt is logged
  (`WebhookDelivery`); an answer other than 2xx raises, so the outbox retries it after 1 min,
  5 min, 30 min, 2 h and 8 h. An event given up after its last attempt counts as failed;
  `WEBHOOK_DISABLE_AFTER` (5) failed events in a row disable the endpoint, with the reason,
  until an admin re-enables it. A success resets the count.
- Server-side request forgery: a URL must be http(s) and every address its host resolves to
  public (`url_addresses`): checked at registration and again at each delivery, which then
  connects to the address it checked (a DNS answer that changes in between cannot point the
  POST inside). `WEBHOOK_ALLOW_PRIVATE` lifts that for tests and local use.

The secret is stored as issued (the server needs it to sign); it is shown once, at
creation, and never rendered again (API, pages, audit, admin).
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone
from standardwebhooks import Webhook as Signer

from accounts.audit import audit_record
from accounts.errors import DomainError
from accounts.models import WEBHOOK_EVENTS, Organization, OutboxMessage, Webhook, WebhookDelivery
from accounts.outbox import MAX_ATTEMPTS, outbox_write, performer
from accounts.permissions import Actor, Perm

log = logging.getLogger(__name__)

TEST_EVENT = "webhook.test"
USER_AGENT = "cdmo-journey-webhooks/1"


class WebhookFailed(Exception):
    """A delivery attempt that did not get a 2xx (the outbox retries it)."""


# --- the SSRF guard -------------------------------------------------------------------------
def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why a delivery may not go to this address ('' when it may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for flag, why in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(address, flag):
            return why
    return "" if address.is_global else "not public"


def url_addresses(url: str) -> tuple[str, int, list[str]]:
    """(host, port, addresses) of a webhook URL, or a DomainError on `url`: not http(s), no
    host, does not resolve, or (unless `WEBHOOK_ALLOW_PRIVATE`) any address not public."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DomainError("Enter a valid URL.", field="url") from None
    if parts.scheme not in ("http", "https"):
        raise DomainError("The URL must start with https:// or http://.", field="url")
    host = parts.hostname
    if not host:
        raise DomainError("The URL has no host.", field="url")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise DomainError(f"The host '{host}' does not resolve.", field="url") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            why = _refused(address)
            if why:
                raise DomainError(
                    f"The URL's host resolves to a {why} address ({address}); webhooks go "
                    "to public addresses only.",
                    field="url",
                )
    return host, port, [str(a) for a in dict.fromkeys(addresses)]


def _clean_url(url: Any) -> str:
    url = str(url or "").strip()
    if not url:
        raise DomainError("This field is required.", field="url")
    if len(url) > Webhook._meta.get_field("url").max_length:
        raise DomainError("The URL is too long (500 characters at most).", field="url")
    url_addresses(url)
    return url


def _clean_events(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise DomainError("Choose at least one event.", field="events")
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise DomainError(
            f"Unknown event {unknown[0]!r}; events are: {', '.join(WEBHOOK_EVENTS)}.",
            field="events",
        )
    return [e for e in WEBHOOK_EVENTS if e in events]


def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- selectors ------------------------------------------------------------------------------
def webhook_list(*, organization: Organization) -> QuerySet[Webhook]:
    return Webhook.objects.for_organization(organization).order_by("created_at", "id")


def webhook_get(*, organization: Organization, webhook_id: int) -> Webhook:
    webhook = Webhook.objects.for_organization(organization).filter(pk=webhook_id).first()
    if webhook is None:
        raise Http404(f"No webhook with id {webhook_id}.")
    return webhook


def webhook_deliveries(*, organization: Organization, webhook: Webhook) -> QuerySet:
    return (
        WebhookDelivery.objects.for_organization(organization)
        .filter(webhook=webhook)
        .order_by("-at", "-id")
    )


# --- services -------------------------------------------------------------------------------
_AUDITED = ("url", "events", "active", "description")


def _unique_url(organization: Organization, url: str, exclude: int | None = None) -> None:
    clash = Webhook.objects.for_organization(organization).filter(url=url)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise DomainError("An endpoint with this URL already exists.", field="url")


@transaction.atomic
def webhook_create(
    *, actor: Actor, url: Any, events: Any, active: bool = True, description: str = ""
) -> tuple[Webhook, str]:
    """Register an endpoint; returns it and its secret (shown once, by the caller)."""
    actor.require(Perm.WEBHOOKS_MANAGE)
    url, events = _clean_url(url), _clean_events(events)
    _unique_url(actor.organization, url)
    secret = secret_new()
    webhook = Webhook.objects.create(
        organization=actor.organization,
        url=url,
        events=events,
        active=bool(active),
        description=(description or "").strip()[:200],
        secret=secret,
        created_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="create",
        instance=webhook,
        changes={f: [None, getattr(webhook, f)] for f in _AUDITED},
    )
    return webhook, secret


@transaction.atomic
def webhook_update(*, actor: Actor, webhook_id: int, **data: Any) -> Webhook:
    """Change an endpoint's URL, events, active flag or description. Turning it active
    again also clears a disabled state (the admin has seen why)."""
    actor.require(Perm.WEBHOOKS_MANAGE)
    webhook = webhook_get(organization=actor.organization, webhook_id=webhook_id)
    before = {f: getattr(webhook, f) for f in _AUDITED}
    if "url" in data:
        webhook.url = _clean_url(data["url"])
        _unique_url(actor.organization, webhook.url, exclude=webhook.pk)
    if "events" in data:
        webhook.events = _clean_events(data["events"])
    if "description" in data:
        webhook.description = (data["description"] or "").strip()[:200]
    if "active" in data:
        webhook.active = bool(data["active"])
        if webhook.active:
            webhook.disabled_at, webhook.disabled_reason = None, ""
            webhook.consecutive_failures = 0
    changes = {
        f: [before[f], getattr(webhook, f)] for f in _AUDITED if before[f] != getattr(webhook, f)
    }
    webhook.save()
    if changes:
        audit_record(actor=actor, action="update", instance=webhook, changes=changes)
    return webhook


def webhook_enable(*, actor: Actor, webhook_id: int) -> Webhook:
    """Re-enable an endpoint the failures disabled (or an admin switched off)."""
    return webhook_update(actor=actor, webhook_id=webhook_id, active=True)


@transaction.atomic
def webhook_delete(*, actor: Actor, webhook_id: int) -> None:
    actor.require(Perm.WEBHOOKS_MANAGE)
    webhook = webhook_get(organization=actor.organization, webhook_id=webhook_id)
    audit_record(
        actor=actor,
        action="delete",
        instance=webhook,
        changes={f: [getattr(webhook, f), None] for f in _AUDITED},
    )
    # Waiting deliveries find no endpoint and end (`webhook_perform`).
    webhook.delete()


def _event(type_: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": type_,
        "timestamp": timezone.now().isoformat(),
        # As JSON now: what the receiver gets is what the API showed at the time of the cause.
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }


@transaction.atomic
def webhook_test(*, actor: Actor, webhook_id: int) -> dict[str, Any]:
    """Send a `webhook.test` event to this endpoint (even if inactive or disabled), once:
    logged like any delivery, never retried, never counted as a failure."""
    actor.require(Perm.WEBHOOKS_MANAGE)
    webhook = webhook_get(organization=actor.organization, webhook_id=webhook_id)
    event = _event(
        TEST_EVENT,
        {"webhook": webhook.pk, "organization": actor.organization.slug, "sent_by": actor.label},
    )
    outbox_write(
        organization=actor.organization,
        kind=OutboxMessage.Kind.WEBHOOK,
        payload={"webhook": webhook.pk, **event},
    )
    return event


def _subscribed(organization_id: int, type: str) -> list[int]:
    return [
        pk
        for pk, events in Webhook.objects.for_organization(organization_id)
        .filter(active=True, disabled_at__isnull=True)
        .values_list("pk", "events")
        if type in (events or [])
    ]


def webhook_subscribed(*, organization: Organization | int, type: str) -> bool:
    """Whether an active endpoint of the organization receives this event."""
    return bool(_subscribed(int(getattr(organization, "pk", organization)), type))


def webhook_emit(
    *,
    organization: Organization | int,
    type: str,
    data: dict[str, Any] | Callable[[], dict[str, Any]],
) -> str:
    """An event happened (inside its cause's transaction): one outbox row per active
    endpoint subscribed to it, all with the same event id ('' when none is: then a callable
    `data` is not even rendered). Returns the event id."""
    if type not in WEBHOOK_EVENTS:
        raise ValueError(f"Unknown webhook event {type!r}")
    organization_id = int(getattr(organization, "pk", organization))
    endpoints = _subscribed(organization_id, type)
    if not endpoints:
        return ""
    event = _event(type, data() if callable(data) else data)
    for pk in endpoints:
        outbox_write(
            organization=organization_id,
            kind=OutboxMessage.Kind.WEBHOOK,
            payload={"webhook": pk, **event},
        )
    return event["id"]


# --- delivery -------------------------------------------------------------------------------
def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST to the address the guard checked (not a second DNS answer); no redirects."""
    host, port, addresses = url_addresses(url)
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    timeout = settings.WEBHOOK_TIMEOUT
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(host, port, timeout=timeout)
    address = addresses[0]
    conn._create_connection = lambda _addr, timeout=timeout, source=None: (  # type: ignore[attr-defined]
        socket.create_connection((address, port), timeout, source)
    )
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        excerpt = response.read(500).decode("utf-8", "replace").strip()
        return response.status, excerpt
    finally:
        conn.close()


@performer(OutboxMessage.Kind.WEBHOOK)
def webhook_perform(message: OutboxMessage) -> None:
    """Deliver one webhook row (one attempt); raises `WebhookFailed` unless 2xx."""
    payload = message.payload
    organization_id = message.organization_id
    test = payload["type"] == TEST_EVENT
    webhook = (
        Webhook.objects.for_organization(organization_id).filter(pk=payload["webhook"]).first()
    )
    if webhook is None:
        return  # deleted meanwhile: nobody to tell
    if not test and (not webhook.active or webhook.disabled_at is not None):
        return  # switched off or disabled after the event: not sent
    body = json.dumps(
        {"type": payload["type"], "timestamp": payload["timestamp"], "data": payload["data"]},
        separators=(",", ":"),
    )
    now = timezone.now()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": payload["id"],
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(webhook.secret).sign(
            msg_id=payload["id"], timestamp=now.astimezone(dt.UTC), data=body
        ),
    }
    started = time.monotonic()
    status, error = None, ""
    try:
        status, excerpt = _post(webhook.url, body.encode(), headers)
        if not 200 <= status < 300:
            error = f"HTTP {status}" + (
                ": redirects are not followed" if 300 <= status < 400 else ""
            )
            if excerpt and not 300 <= status < 400:
                error += f": {excerpt[:200]}"
    except DomainError as exc:  # the guard: the host now resolves somewhere refused
        error = f"Refused: {exc.message}"
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500] if str(exc) else type(exc).__name__
    WebhookDelivery.objects.create(
        organization_id=organization_id,
        webhook=webhook,
        event_id=payload["id"],
        event_type=payload["type"],
        payload=json.loads(body),
        attempt=message.attempts,
        status_code=status,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
        at=now,
    )
    endpoints = Webhook.objects.for_organization(organization_id).filter(pk=webhook.pk)
    if not error:
        if not test:
            endpoints.filter(consecutive_failures__gt=0).update(consecutive_failures=0)
        return
    if test:
        return  # one attempt, logged; the admin reads the result in the log
    if message.attempts >= MAX_ATTEMPTS:
        _event_failed(webhook, endpoints, error, now)
    raise WebhookFailed(error)


def _event_failed(webhook: Webhook, endpoints, error: str, now: dt.datetime) -> None:
    """The event's last attempt failed: one more failed event in a row; at the limit, the
    endpoint is disabled with the reason the admins see."""
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    limit = settings.WEBHOOK_DISABLE_AFTER
    disabled = endpoints.filter(consecutive_failures__gte=limit, disabled_at__isnull=True).update(
        disabled_at=now,
        disabled_reason=(
            f"Disabled after {limit} events in a row failed (every retry included). "
            f"Last error: {error}"
        )[:2000],
    )
    if disabled:
        log.warning("webhook %s disabled after %d failed events", webhook.pk, limit)
