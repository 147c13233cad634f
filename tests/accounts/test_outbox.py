"""The outbox (eager mode, as in the embedded default): a side effect is a row written in its
cause's transaction, performed once after commit, retried with backoff until dead, and
handed over again by the flush; rows stay inside their organization."""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from accounts.models import OutboxMessage, PersonalOutboxMessage
from accounts.outbox import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    email_enqueue,
    outbox_deliver,
    outbox_flush_due_across_organizations,
    task_enqueue,
)
from accounts.tasks import outbox_deliver_task
from config.celery import app

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


class MailServerDown(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("mail server went away")


def rows(org):
    return OutboxMessage.objects.for_organization(org)


def enqueue_mail(org, to="a@example.com", subject="Hello"):
    return email_enqueue(organization=org, to=[to], subject=subject, body="Body with a link")


def written_not_handed(org, **kwargs) -> OutboxMessage:
    """A row whose transaction committed but whose hand-over never ran (process died)."""
    with TestCase.captureOnCommitCallbacks(execute=False):
        return enqueue_mail(org, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_the_row_is_written_with_its_cause_and_sent_once_after_commit(org):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_mail(org)
        raise RuntimeError("the cause rolled back")
    assert not rows(org).exists() and mail.outbox == []

    with transaction.atomic():
        message = enqueue_mail(org, subject="Line one\nBcc: evil@example.com")
        assert rows(org).get().status == "pending"
        assert mail.outbox == []  # nothing before the commit
    [sent] = mail.outbox
    assert sent.to == ["a@example.com"] and sent.subject == "Line one Bcc: evil@example.com"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("done", 1) and message.done_at
    assert "body" not in message.payload  # the body (and its links) is not kept once sent
    # Delivered again (a duplicate hand-over): nothing is sent twice.
    assert outbox_deliver_task(message_id=message.pk, organization_id=org.pk) == "skipped"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_delivering_the_same_row_twice_sends_once(org):
    message = written_not_handed(org)
    assert outbox_deliver(message_id=message.pk, organization_id=org.pk) == "done"
    assert outbox_deliver(message_id=message.pk, organization_id=org.pk) == "skipped"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_leased_row_is_not_performed_by_a_second_delivery(org):
    message = written_not_handed(org)
    # A first delivery claimed it (and is still sending): its lease keeps others off.
    now = timezone.now()
    rows(org).filter(pk=message.pk).update(
        attempts=1, handed_at=now, next_attempt_at=now + dt.timedelta(minutes=10)
    )
    assert outbox_deliver(message_id=message.pk, organization_id=org.pk) == "skipped"
    assert outbox_flush_due_across_organizations() == 0
    assert mail.outbox == []
    # That worker died: once the lease ends, the flush hands the row over again.
    with time_machine.travel(now + dt.timedelta(minutes=11), tick=False):
        assert outbox_flush_due_across_organizations() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, len(mail.outbox)) == ("done", 2, 1)


@pytest.mark.django_db
def test_a_failing_delivery_is_retried_with_backoff_and_ends_dead(org, settings, admin_client):
    settings.EMAIL_BACKEND = f"{__name__}.MailServerDown"
    with time_machine.travel(T0, tick=False) as clock:
        message = written_not_handed(org)
        assert outbox_deliver(message_id=message.pk, organization_id=org.pk) == "failed"
        now = T0
        for attempt, delay in enumerate(RETRY_DELAYS, start=1):
            message.refresh_from_db()
            assert (message.status, message.attempts) == ("failed", attempt)
            assert message.next_attempt_at == now + dt.timedelta(seconds=delay)
            assert "mail server went away" in message.last_error
            # Not due yet: the flush leaves it alone.
            clock.move_to(now + dt.timedelta(seconds=delay - 1))
            outbox_flush_due_across_organizations()
            message.refresh_from_db()
            assert message.attempts == attempt
            now = now + dt.timedelta(seconds=delay)
            clock.move_to(now)
            outbox_flush_due_across_organizations()
    assert RETRY_DELAYS == (60, 300, 1800, 7200, 28800)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("dead", MAX_ATTEMPTS)
    assert "body" not in message.payload and mail.outbox == []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_flush_due_across_organizations() == 0  # dead stays dead
    assert mail.outbox == []
    # Operators see it in the admin, with why.
    page = admin_client.get("/admin/accounts/outboxmessage/?status__exact=dead").content.decode()
    assert "mail server went away" in page and "a@example.com" in page


@pytest.mark.django_db
def test_the_flush_hands_over_what_is_due_only(org):
    waiting = written_not_handed(org)
    # Written a moment ago (its hand-over may still be on its way): not yet.
    assert outbox_flush_due_across_organizations() == 0
    later = timezone.now() + dt.timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        assert outbox_flush_due_across_organizations() == 1
        assert outbox_flush_due_across_organizations() == 0
    waiting.refresh_from_db()
    assert waiting.status == "done" and len(mail.outbox) == 1
    entry = app.conf.beat_schedule["outbox-flush"]
    assert entry["task"] == "accounts.tasks.outbox_flush_task"
    assert 10 <= entry["schedule"] <= 60


@pytest.mark.django_db
def test_rows_stay_inside_their_organization(org, other_org):
    mine = written_not_handed(org)
    # Another organization's delivery path neither sees nor performs it.
    assert outbox_deliver(message_id=mine.pk, organization_id=other_org.pk) == "skipped"
    assert outbox_deliver(message_id=mine.pk, organization_id=None) == "skipped"
    assert not rows(other_org).exists() and mail.outbox == []
    mine.refresh_from_db()
    assert (mine.status, mine.attempts) == ("pending", 0)
    # An e-mail without an organization (a password reset) waits in its own table and goes
    # through the same delivery with no organization.
    with TestCase.captureOnCommitCallbacks(execute=False):
        lone = email_enqueue(organization=None, to=["x@example.com"], subject="Reset", body="b")
    assert isinstance(lone, PersonalOutboxMessage)
    assert (
        not OutboxMessage.objects.unscoped_dangerously()
        .filter(kind="email")
        .exclude(pk=mine.pk)
        .exists()
    )
    assert outbox_deliver(message_id=lone.pk, organization_id=None) == "done"
    assert [m.to for m in mail.outbox] == [["x@example.com"]]
    lone.refresh_from_db()
    assert lone.status == "done" and "body" not in lone.payload
    mine.refresh_from_db()
    assert (mine.status, mine.attempts) == ("pending", 0)


@pytest.mark.django_db
def test_a_personal_email_waiting_is_flushed_like_the_others(org):
    with TestCase.captureOnCommitCallbacks(execute=False):
        lone = email_enqueue(organization=None, to=["y@example.com"], subject="Reset", body="b")
    # Its hand-over never ran (the process died): the flush hands it over once it is stale.
    later = timezone.now() + dt.timedelta(seconds=settings.OUTBOX_REHAND_SECONDS + 1)
    assert outbox_flush_due_across_organizations(now=later) == 1
    lone.refresh_from_db()
    assert lone.status == "done" and [m.to for m in mail.outbox] == [["y@example.com"]]


@pytest.mark.django_db
def test_task_rows_merge_within_a_transaction_and_run_after_commit(org):
    from engagement.tasks import HEALTH_REFRESH_TASK

    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        for ids in ([3], [1, 3]):
            task_enqueue(
                organization=org,
                task=HEALTH_REFRESH_TASK,
                kwargs={"organization_id": org.pk, "client_ids": ids},
                dedupe_key="health-refresh",
            )
        [row] = rows(org).filter(kind="task")
        assert row.payload["kwargs"]["client_ids"] == [1, 3]
        assert row.status == "pending"
    assert len(callbacks) == 1
    row.refresh_from_db()
    assert row.status == "done"
    with pytest.raises(ValueError, match="No Celery task named"):
        task_enqueue(organization=org, task="engagement.tasks.nope", kwargs={})
