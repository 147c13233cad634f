"""Side effects that leave the database: the one door every e-mail goes through.

For now an e-mail is sent after the current transaction commits (nothing if it rolls back).
The outbox (SPEC Part 2) replaces the inside of `email_enqueue` with a row written in the
caller's transaction; callers keep this signature.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from accounts.models import Organization


def email_enqueue(
    *,
    organization: Organization | None,
    to: list[str],
    subject: str,
    body: str,
    html_body: str = "",
) -> None:
    """Send an e-mail once the current transaction commits. `subject` must be one line
    (callers build it from trusted text; a newline is replaced, never sent as a header)."""
    subject = " ".join(subject.splitlines())

    def send() -> None:
        message = EmailMultiAlternatives(
            subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to
        )
        if html_body:
            message.attach_alternative(html_body, "text/html")
        message.send()

    transaction.on_commit(send, robust=False)
