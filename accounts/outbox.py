"""The outbox: every side effect that leaves the database (e-mails, Celery tasks, webhook
deliveries) is first a row written in the caller's transaction (`OutboxMessage`, an
organization's; `PersonalOutboxMessage`, an e-mail to someone outside any organization),
then handed to Celery after commit, so a rolled-back change sends nothing and a broker
outage loses nothing. A delivery names its row by id and organization id; no organization
(None) means the personal table.

- `email_enqueue` / `task_enqueue` write the row and, after commit, hand it over
  (`outbox_deliver_task`). A failed hand-over (broker down) is logged and costs the request
  milliseconds (the broker client fails fast: settings); the row waits for the beat task.
- `outbox_deliver` claims the row with a conditional update that also leases it (so a row
  handed twice is performed once), performs it (sends the e-mail; a task row publishes its
  Celery task, which then has its own acks_late and retries; a webhook row is POSTed by the
  performer `accounts.webhooks` registers in `PERFORMERS`) and marks it done; a failure is
  retried with backoff (`RETRY_DELAYS`), then the row is dead and shows in the admin.
- `outbox_flush_due_across_organizations` (the beat task `outbox_flush_task`) hands over
  what is waiting and due: never handed, failed and due again, or handed long ago and never
  performed (its worker died), in both tables. It is the one reader of the outbox across
  organizations.
- Eager mode (no REDIS_URL: the embedded default and unit tests): the hand-over performs the
  row in process, right after commit.

Coalescing: rows of one organization with the same `dedupe_key` are merged, in one
transaction into one row, and across transactions when one of them is delivered (it absorbs
the others still waiting, merging their arguments with the rule its task registered in
`MERGE_RULES`). A row whose key already has a waiting, handed row is not handed again: that
one absorbs it.

Until it is sent, an e-mail's row holds its body (and with it any link it carries); the body
is dropped once the row is done or dead.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import time
from collections.abc import Callable
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Organization, OutboxBase, OutboxMessage, PersonalOutboxMessage
from accounts.tenancy import all_organizations_dangerously

log = logging.getLogger(__name__)

DELIVER_TASK = "accounts.tasks.outbox_deliver_task"
# Delay before the next attempt after the 1st, 2nd, ... failed one; after the last, dead.
RETRY_DELAYS = (60, 300, 1800, 7200, 28800)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
WAITING = (OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED)

# kind -> how a row of it is performed, for kinds an app above the outbox's own registers
# (`accounts.webhooks`: webhook deliveries). Raising means failed (retried, then dead).
Performer = Callable[[OutboxMessage], None]
PERFORMERS: dict[str, Performer] = {}


def performer(kind: str) -> Callable[[Performer], Performer]:
    """Register how the outbox performs rows of `kind`."""

    def register(func: Performer) -> Performer:
        PERFORMERS[kind] = func
        return func

    return register


Merge = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
# task name -> how two waiting requests of it combine into one (default: the first stands).
MERGE_RULES: dict[str, Merge] = {}


def merge_rule(task: str) -> Callable[[Merge], Merge]:
    """Register how waiting calls of `task` with the same dedupe key combine."""

    def register(func: Merge) -> Merge:
        MERGE_RULES[task] = func
        return func

    return register


def _merge(task: str, first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    rule = MERGE_RULES.get(task)
    return rule(first, second) if rule else first


def _eager() -> bool:
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


# --- writing ------------------------------------------------------------------------------
def email_enqueue(
    *,
    organization: Organization | None,
    to: list[str],
    subject: str,
    body: str,
    html_body: str = "",
) -> OutboxMessage | PersonalOutboxMessage:
    """Send an e-mail once the current transaction commits (nothing if it rolls back), and
    until it is sent. `subject` must be one line (a newline is replaced, never sent as a
    header). Without an organization (a password reset) the row is a personal one."""
    payload = {
        "to": list(to),
        "subject": " ".join(subject.splitlines()),
        "body": body,
        "html_body": html_body,
        "from_email": settings.DEFAULT_FROM_EMAIL,
    }
    fields = {"kind": OutboxMessage.Kind.EMAIL, "payload": payload, "handed_at": timezone.now()}
    message: OutboxMessage | PersonalOutboxMessage
    if organization is not None:
        message = OutboxMessage.objects.create(organization=organization, **fields)
    else:
        message = PersonalOutboxMessage.objects.create(**fields)
    _hand_over_after_commit(message, countdown=0)
    return message


def task_enqueue(
    *,
    organization: Organization | int,
    task: str,
    kwargs: dict[str, Any],
    dedupe_key: str | None = None,
    countdown: float = 0,
    task_id: str | None = None,
) -> OutboxMessage:
    """Call the Celery task named `task` with `kwargs` (JSON) once the current transaction
    commits, and until it has been handed to the broker. With `dedupe_key`, calls of one
    organization with that key merge: within this transaction into this one row, and across
    transactions when one is delivered (`MERGE_RULES`). `countdown`: hand it over this many
    seconds after commit (later calls ride on it); `task_id`: the Celery task id.
    `organization` may be given by id (a caller holding only `organization_id`)."""
    organization_id = int(getattr(organization, "pk", organization))
    _task(task)  # an unknown task fails now, in the caller's transaction, not in a worker
    key = dedupe_key or ""
    conn = transaction.get_connection()
    if key and conn.in_atomic_block:
        for _sids, func, _robust in conn.run_on_commit:
            if getattr(func, "outbox_key", None) == (organization_id, key, task):
                merged = _merge(task, func.outbox_kwargs, kwargs)
                func.outbox_kwargs = merged
                OutboxMessage.objects.for_organization(organization_id).filter(
                    pk=func.outbox_message.pk
                ).update(payload={**func.outbox_message.payload, "kwargs": merged})
                return func.outbox_message
    payload: dict[str, Any] = {"task": task, "kwargs": kwargs}
    if task_id:
        payload["task_id"] = task_id
    message = OutboxMessage.objects.create(
        organization_id=organization_id,
        kind=OutboxMessage.Kind.TASK,
        payload=payload,
        dedupe_key=key,
        # A row that may ride on another is marked handed only once it really was, so
        # riders never wait on a rider (`_waits_with_another`).
        handed_at=None if key else timezone.now(),
    )
    callback = _hand_over_after_commit(message, countdown=countdown)
    callback.outbox_key = (organization_id, key, task)  # type: ignore[attr-defined]
    callback.outbox_kwargs = kwargs  # type: ignore[attr-defined]
    callback.outbox_message = message  # type: ignore[attr-defined]
    return message


def outbox_write(*, organization: Organization | int, kind: str, payload: dict[str, Any]):
    """A row of a kind a registered performer delivers (`PERFORMERS`: webhooks), written in
    the current transaction and handed over after commit."""
    if kind not in PERFORMERS:
        raise ValueError(f"outbox: no delivery for {kind!r} messages")
    message = OutboxMessage.objects.create(
        organization_id=int(getattr(organization, "pk", organization)),
        kind=kind,
        payload=payload,
        handed_at=timezone.now(),
    )
    _hand_over_after_commit(message, countdown=0)
    return message


def _hand_over_after_commit(message: OutboxBase, *, countdown: float) -> Callable[[], None]:
    message_id, key = message.pk, message.dedupe_key
    organization_id = getattr(message, "organization_id", None)  # None: a personal row

    def hand_over() -> None:
        if not key:
            _hand(message_id, organization_id, countdown=countdown)
            return
        if _waits_with_another(organization_id, key, message_id):
            return  # the one already handed absorbs this one when it is delivered
        if _hand(message_id, organization_id, countdown=countdown) and not _eager():
            _rows(organization_id).filter(pk=message_id, handed_at__isnull=True).update(
                handed_at=timezone.now()
            )

    transaction.on_commit(hand_over, robust=True)
    return hand_over


def _waits_with_another(organization_id: int, key: str, message_id: int) -> bool:
    now = timezone.now()
    return (
        OutboxMessage.objects.for_organization(organization_id)
        .filter(
            dedupe_key=key,
            status=OutboxMessage.Status.PENDING,
            next_attempt_at__lte=now,  # not leased: its delivery has not started
            handed_at__gte=now - dt.timedelta(seconds=settings.OUTBOX_REHAND_SECONDS),
        )
        .exclude(pk=message_id)
        .exists()
    )


def _hand(message_id: int, organization_id: int | None, *, countdown: float = 0) -> bool:
    """Give a row to Celery (eager: perform it now). False: the broker refused; the row waits
    for the flush. Never raises: the caller's change is committed already."""
    try:
        if _eager():
            outbox_deliver(message_id=message_id, organization_id=organization_id)
            _eager_flush()
        else:
            current_app.send_task(
                DELIVER_TASK,
                kwargs={"message_id": message_id, "organization_id": organization_id},
                countdown=countdown or None,
                ignore_result=True,
            )
        return True
    except Exception as exc:
        log.warning(
            "outbox: message %s not handed over (%s: %s); the flush retries it",
            message_id,
            type(exc).__name__,
            exc,
        )
        try:
            _rows(organization_id).filter(pk=message_id).update(handed_at=None)
        except Exception:
            log.exception("outbox: message %s could not be marked unhanded", message_id)
        return False


_last_eager_flush = 0.0


def _eager_flush() -> None:
    """Without a beat (eager mode), retries that fell due are flushed now and then."""
    global _last_eager_flush
    if time.monotonic() - _last_eager_flush < settings.OUTBOX_FLUSH_SECONDS:
        return
    _last_eager_flush = time.monotonic()
    outbox_flush_due_across_organizations()


# --- delivering ---------------------------------------------------------------------------
def _rows(organization_id: int | None):
    """The rows a delivery may touch: its organization's, or (None) the personal ones."""
    if organization_id is None:
        return PersonalOutboxMessage.objects.all()
    return OutboxMessage.objects.for_organization(organization_id)


def _task(name: str):
    try:
        return current_app.tasks[name]
    except KeyError:
        importlib.import_module(name.rpartition(".")[0])  # registers it (as autodiscovery would)
        try:
            return current_app.tasks[name]
        except KeyError:
            raise ValueError(f"No Celery task named {name!r}.") from None


def outbox_deliver(*, message_id: int, organization_id: int | None) -> str:
    """Perform one row, once: "done", "failed" (retried later), "dead" or "skipped" (done,
    dead, not due, or leased by another delivery).

    The claim is a conditional update that bumps `attempts` and leases the row
    (`next_attempt_at` past the delivery's time limit): a second delivery finds nothing to
    claim, and a delivery whose worker died is re-handed by the flush once the lease ends.
    """
    rows = _rows(organization_id)
    now = timezone.now()
    claimed = rows.filter(pk=message_id, status__in=WAITING, next_attempt_at__lte=now).update(
        attempts=F("attempts") + 1,
        handed_at=now,
        next_attempt_at=now + dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS),
    )
    if claimed != 1:
        return "skipped"
    message = rows.get(pk=message_id)
    try:
        if message.dedupe_key:
            _absorb(message, rows, now)
        _perform(message)
    except Exception as exc:
        return _failed(message, rows, exc)
    rows.filter(pk=message.pk, attempts=message.attempts).update(
        status=OutboxMessage.Status.DONE,
        done_at=timezone.now(),
        last_error="",
        payload=_kept(message),
    )
    return "done"


def _absorb(message: OutboxBase, rows, now: dt.datetime) -> None:
    """Merge the other waiting rows with this one's key into it (one transaction: the
    absorbed rows are done exactly when their arguments are in this row)."""
    task = message.payload["task"]
    with transaction.atomic():
        others = list(
            rows.filter(dedupe_key=message.dedupe_key, status__in=WAITING, next_attempt_at__lte=now)
            .exclude(pk=message.pk)
            .select_for_update(skip_locked=True)
            .order_by("pk")
        )
        if not others:
            return
        kwargs = message.payload["kwargs"]
        for other in others:
            kwargs = _merge(task, kwargs, other.payload.get("kwargs", {}))
        rows.filter(pk__in=[o.pk for o in others]).update(
            status=OutboxMessage.Status.DONE,
            done_at=now,
            last_error=f"merged into #{message.pk}",
        )
        message.payload = {**message.payload, "kwargs": kwargs}
        rows.filter(pk=message.pk).update(payload=message.payload)


def _perform(message: OutboxBase) -> None:
    payload = message.payload
    if message.kind == OutboxMessage.Kind.EMAIL:
        email = EmailMultiAlternatives(
            subject=payload["subject"],
            body=payload["body"],
            from_email=payload.get("from_email") or settings.DEFAULT_FROM_EMAIL,
            to=payload["to"],
        )
        if payload.get("html_body"):
            email.attach_alternative(payload["html_body"], "text/html")
        email.send()
    elif message.kind == OutboxMessage.Kind.TASK:
        options = {"task_id": payload["task_id"]} if payload.get("task_id") else {}
        # Eager: runs the task here. Worker: publishes it; the task retries on its own.
        _task(payload["task"]).apply_async(kwargs=payload["kwargs"], **options)
    elif message.kind in PERFORMERS:
        PERFORMERS[message.kind](message)
    else:
        raise ValueError(f"outbox: no delivery for {message.kind!r} messages")


def _kept(message: OutboxBase) -> dict[str, Any]:
    """What a finished row keeps: an e-mail's addressees and subject, not its body."""
    if message.kind == OutboxMessage.Kind.EMAIL:
        return {k: message.payload.get(k) for k in ("to", "subject")}
    return message.payload


def _failed(message: OutboxBase, rows, exc: Exception) -> str:
    attempts = message.attempts
    now = timezone.now()
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if attempts >= MAX_ATTEMPTS:
        log.error("outbox: %s is dead after %d attempts: %s", message, attempts, error)
        rows.filter(pk=message.pk, attempts=attempts).update(
            status=OutboxMessage.Status.DEAD,
            last_error=error,
            handed_at=None,
            done_at=None,
            payload=_kept(message),
        )
        return "dead"
    delay = RETRY_DELAYS[attempts - 1]
    log.warning(
        "outbox: %s failed (attempt %d), again in %d s: %s", message, attempts, delay, error
    )
    rows.filter(pk=message.pk, attempts=attempts).update(
        status=OutboxMessage.Status.FAILED,
        last_error=error,
        handed_at=None,
        next_attempt_at=now + dt.timedelta(seconds=delay),
    )
    return "failed"


# --- the beat task's reader ---------------------------------------------------------------
def outbox_flush_due_across_organizations(
    *, now: dt.datetime | None = None, limit: int = 1000
) -> int:
    """Hand over every waiting row that is due and not handed recently, across
    organizations (the one cross-organization reader of the outbox) and in the personal
    table, and prune finished rows; the number handed. Stops at the first refusal of the
    broker (it is down)."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.OUTBOX_REHAND_SECONDS)
    keep = dt.timedelta(days=settings.OUTBOX_KEEP_DAYS)
    handed = waiting = 0
    with all_organizations_dangerously("outbox flush: what is waiting in every organization"):
        tables = [
            (OutboxMessage.objects.unscoped_dangerously(), "organization_id"),
            (PersonalOutboxMessage.objects.all(), None),
        ]
        for rows, organization_column in tables:
            due = list(
                rows.filter(status__in=WAITING, next_attempt_at__lte=now)
                .filter(Q(handed_at__isnull=True) | Q(handed_at__lt=stale))
                .order_by("next_attempt_at", "pk")
                .values_list("pk", organization_column or "pk")[:limit]
            )
            waiting += len(due)
            refused = False
            for pk, organization_id in due:
                if not _eager():
                    rows.filter(pk=pk).update(handed_at=now)
                if not _hand(pk, organization_id if organization_column else None):
                    refused = True
                    break
                handed += 1
            rows.filter(status=OutboxMessage.Status.DONE, done_at__lt=now - keep).delete()
            if refused:
                break
    if waiting:
        log.info("outbox flush: %d of %d due message(s) handed over", handed, waiting)
    return handed
