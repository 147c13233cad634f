"""Gate surveys: sent after commit when a project leaves a phase (NPS at completion), to the
primary contact, through a single-use, expiring link whose token only the e-mail holds."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.test import Client as BrowserClient

from accounts.models import OutboxMessage
from accounts.outbox import outbox_flush_due_across_organizations
from engagement.models import SurveyLink
from engagement.selectors import (
    feedback_request_status,
    survey_response_rate,
    survey_response_rates_by_client,
)
from engagement.services.settings import engagement_settings_update
from engagement.services.surveys import (
    MAX_TOKEN_LENGTH,
    survey_answer,
    survey_gate_request,
    survey_lookup,
    survey_send,
    survey_send_reminders,
    token_hash,
)
from engagement.tasks import survey_gate_task
from journey.errors import JourneyError
from journey.models import Feedback
from tests.engagement.conftest import at, committed, move, send_request, tokens_in_outbox

pytestmark = pytest.mark.django_db


def gate_requests(world):
    return list(Feedback.objects.for_organization(world.org).filter(origin="gate").order_by("id"))


# --- the gate -------------------------------------------------------------------------------
def test_leaving_a_phase_sends_a_csat_request_after_commit(
    world, clock, django_capture_on_commit_callbacks
):
    clock(at(0))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        move(world, "initiate")
        assert gate_requests(world) == []  # nothing before the commit
        assert mail.outbox == []
    with committed():  # the commit: the gate task runs, its e-mail goes out after its commit
        for callback in callbacks:
            callback()
    [request] = gate_requests(world)
    assert (request.kind, request.phase, request.contact_id) == ("csat", "assess", world.contact.pk)
    assert request.requested_at == at(0) and request.sent_at == at(0)
    assert request.expires_at == at(30)
    assert request.score is None
    [message] = mail.outbox
    assert message.to == ["dana@novexa.example"]
    assert "assess phase" in message.subject.lower()
    [token] = tokens_in_outbox()
    assert message.body.count(f"http://127.0.0.1:8000/survey/{token}/") == 1
    # Only the hash is stored, nowhere the token itself.
    [link] = SurveyLink.objects.for_organization(world.org)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(Feedback.objects.for_organization(world.org).values()))
    assert token not in str(list(SurveyLink.objects.for_organization(world.org).values()))


def test_completion_asks_for_nps_and_each_gate_once(
    world, clock, django_capture_on_commit_callbacks
):
    for i, to in enumerate(["initiate", "plan", "execute", "close_out", "completed"]):
        clock(at(i))
        with django_capture_on_commit_callbacks(execute=True):
            move(world, to)
    got = [(f.phase, f.kind) for f in gate_requests(world)]
    assert got == [
        ("assess", "csat"),
        ("initiate", "csat"),
        ("plan", "csat"),
        ("execute", "csat"),
        ("close_out", "nps"),
    ]
    assert len(mail.outbox) == 5
    assert "recommend" in mail.outbox[-1].subject
    # The task runs twice (a redelivered message): nothing new, no second e-mail.
    last = world.project.transitions.order_by("-seq").first()
    assert survey_gate_task(organization_id=world.org.pk, transition_id=last.pk) == (
        gate_requests(world)[-1].pk
    )
    assert len(gate_requests(world)) == 5 and len(mail.outbox) == 5


@pytest.mark.parametrize("to", ["on_hold", "cancelled", "lost"])
def test_moves_that_close_no_gate_send_nothing(
    world, clock, django_capture_on_commit_callbacks, to
):
    clock(at(0))
    with django_capture_on_commit_callbacks(execute=True):
        move(world, to)
    assert gate_requests(world) == [] and mail.outbox == []


def test_skipped_with_a_logged_reason(world, clock, caplog, django_capture_on_commit_callbacks):
    clock(at(0))
    caplog.set_level(logging.INFO, logger="engagement.services.surveys")
    # No e-mail on the primary contact.
    world.contact.email = ""
    world.contact.save()
    with django_capture_on_commit_callbacks(execute=True):
        move(world, "initiate")
    assert "has no e-mail" in caplog.text
    # No primary contact at all.
    world.contact.is_primary = False
    world.contact.save()
    clock(at(1))
    with django_capture_on_commit_callbacks(execute=True):
        move(world, "plan")
    assert "has no primary contact" in caplog.text
    # Back-dated moves (history imports) ask nobody.
    world.contact.is_primary, world.contact.email = True, "dana@novexa.example"
    world.contact.save()
    clock(at(30))
    with django_capture_on_commit_callbacks(execute=True):
        move(world, "execute", when=at(20))
    assert "back-dated" in caplog.text
    assert gate_requests(world) == [] and mail.outbox == []


def test_an_organization_turns_gate_surveys_off_per_service_model(
    world, clock, caplog, django_capture_on_commit_callbacks
):
    clock(at(0))
    caplog.set_level(logging.INFO, logger="engagement.services.surveys")
    engagement_settings_update(actor=world.admin, gate_surveys_disabled_for=["consultative"])
    with django_capture_on_commit_callbacks(execute=True):
        move(world, "initiate")
    assert gate_requests(world) == [] and "turned off for consultative" in caplog.text
    engagement_settings_update(actor=world.admin, gate_surveys_disabled_for=["transactional"])
    clock(at(1))
    with django_capture_on_commit_callbacks(execute=True):
        move(world, "plan")
    assert [f.phase for f in gate_requests(world)] == ["initiate"]


def test_settings_are_for_admins_and_validated(world, other_world):
    from accounts.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        engagement_settings_update(actor=world.am, gate_surveys_disabled_for=["consultative"])
    with pytest.raises(JourneyError) as exc:
        engagement_settings_update(actor=world.admin, gate_surveys_disabled_for=["premium"])
    assert exc.value.field == "gate_surveys_disabled_for"
    # One organization's switch leaves the other's alone.
    engagement_settings_update(actor=world.admin, gate_surveys_disabled_for=["consultative"])
    from engagement.services.playbooks import gate_surveys_enabled

    assert gate_surveys_enabled(organization=other_world.org, service_model="consultative")


def test_gate_task_for_another_organizations_transition_does_nothing(world, other_world, clock):
    clock(at(0))
    move(world, "initiate")
    entry = world.project.transitions.order_by("-seq").first()
    assert survey_gate_request(organization=other_world.org, transition_id=entry.pk) is None
    assert not Feedback.objects.for_organization(other_world.org).filter(origin="gate").exists()
    assert mail.outbox == []


# --- the public page ------------------------------------------------------------------------
def page(token: str):
    return f"/survey/{token}/"


def test_contact_answers_once_on_a_public_page(world, clock):
    clock(at(0))
    feedback, token = send_request(world)
    browser = BrowserClient(enforce_csrf_checks=True)
    response = browser.get(page(token))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="viewport"' in html and "csrfmiddlewaretoken" in html
    assert [f'value="{v}"' in html for v in range(1, 6)] == [True] * 5
    assert 'name="comment"' in html
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    csrf = response.cookies["csrftoken"].value
    clock(at(0, hours=2))
    response = browser.post(
        page(token), {"score": "4", "comment": "Solid start.", "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 302 and response["Location"] == page(token)
    feedback.refresh_from_db()
    assert (feedback.score, feedback.comment, feedback.responded_at) == (
        4,
        "Solid start.",
        at(0, hours=2),
    )
    # Reuse: the same link shows that it was used, and changes nothing.
    response = browser.get(page(token))
    assert response.status_code == 200 and b"Thank you" in response.content
    response = browser.post(page(token), {"score": "1", "csrfmiddlewaretoken": csrf})
    assert b"already" in response.content or b"Thank you" in response.content
    feedback.refresh_from_db()
    assert feedback.score == 4
    with pytest.raises(JourneyError) as exc:
        survey_answer(token=token, score=1)
    assert exc.value.code == "answered"


def test_post_without_csrf_token_is_refused(world, clock):
    clock(at(0))
    feedback, token = send_request(world)
    response = BrowserClient(enforce_csrf_checks=True).post(page(token), {"score": "5"})
    assert response.status_code == 403
    feedback.refresh_from_db()
    assert feedback.score is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a score from 1 to 5."),
        ({"score": "6"}, "Choose a score from 1 to 5."),
        ({"score": "0"}, "Choose a score from 1 to 5."),
        ({"score": "four"}, "Choose a score from 1 to 5."),
        ({"score": "3", "comment": "x" * 5001}, "At most 5000 characters."),
        ({"score": "3", "comment": "null\x00byte"}, "a character that is not allowed"),
        ({"score": "99999999999999999999999"}, "Choose a score from 1 to 5."),
    ],
)
def test_bad_input_re_renders_with_the_error_inline(world, clock, data, message):
    clock(at(0))
    feedback, token = send_request(world)
    response = BrowserClient().post(page(token), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'data-error-for="' in html
    assert 'name="score"' in html  # the form again, not an error page
    feedback.refresh_from_db()
    assert feedback.score is None and feedback.responded_at is None


def test_nps_page_shows_zero_to_ten(world, clock):
    clock(at(0))
    _, token = send_request(world, kind="nps")
    html = BrowserClient().get(page(token)).content.decode()
    assert [f'value="{v}"' in html for v in range(0, 11)] == [True] * 11
    response = BrowserClient().post(page(token), {"score": "11"})
    assert b"Choose a score from 0 to 10." in response.content


def test_links_expire_after_thirty_days(world, clock):
    clock(at(0))
    feedback, token = send_request(world)
    clock(at(30, minutes=-1))
    assert survey_lookup(token=token).status == "open"
    clock(at(30))
    response = BrowserClient().get(page(token))
    assert response.status_code == 410 and b"expired" in response.content
    response = BrowserClient().post(page(token), {"score": "5"})
    assert response.status_code == 410
    feedback.refresh_from_db()
    assert feedback.score is None
    assert feedback_request_status(feedback) == "expired"


@pytest.mark.parametrize(
    "guess",
    [
        "x" * 43,
        "1",
        "../../admin",
        "%00",
        "A" * 500,
    ],
)
def test_unknown_and_guessed_links_get_a_clear_page(world, clock, guess):
    clock(at(0))
    feedback, _token = send_request(world)
    response = BrowserClient().get(page(guess))
    assert response.status_code == 404
    assert b"not valid" in response.content
    response = BrowserClient().post(page(guess), {"score": "1"})
    assert response.status_code == 404
    feedback.refresh_from_db()
    assert feedback.score is None


def test_neither_the_id_nor_the_stored_hash_opens_the_survey(world, clock):
    clock(at(0))
    feedback, token = send_request(world)
    link = SurveyLink.objects.for_organization(world.org).get()
    for guess in (str(feedback.pk), link.token_hash, token[:-1], token + "A", token.upper()):
        assert survey_lookup(token=guess).status == "unknown", guess
    assert survey_lookup(token=token).status == "open"
    assert len(token) >= 43  # 32 random bytes


def test_another_organizations_token_answers_only_its_own_request(world, other_world, clock):
    clock(at(0))
    mine, _my_token = send_request(world)
    theirs, their_token = send_request(other_world)
    state = survey_lookup(token=their_token)
    assert state.feedback.pk == theirs.pk and state.link.organization_id == other_world.org.pk
    survey_answer(token=their_token, score=5, comment="Great")
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.score is None and theirs.score == 5
    # The page shows the other organization's name, never ours.
    assert world.org.name.encode() not in BrowserClient().get(page(their_token)).content


# --- reminders, response rate ---------------------------------------------------------------
def test_one_reminder_after_seven_days_with_a_fresh_working_link(world, clock):
    clock(at(0))
    feedback, first = send_request(world)
    clock(at(7, minutes=-1))
    assert survey_send_reminders(organization=world.org) == 0
    clock(at(7))
    with committed():
        assert survey_send_reminders(organization=world.org) == 1
    assert mail.outbox[-1].subject.startswith("Reminder: ")
    assert survey_send_reminders(organization=world.org) == 0  # once
    clock(at(8))
    assert survey_send_reminders(organization=world.org) == 0
    feedback.refresh_from_db()
    assert feedback.reminder_sent_at == at(7)
    second = tokens_in_outbox()[-1]
    assert second != first
    assert survey_lookup(token=first).status == "open"  # the first e-mail still works
    survey_answer(token=second, score=3)
    assert survey_lookup(token=first).status == "answered"  # single use across both links
    assert len(mail.outbox) == 2


def test_no_reminder_for_answered_or_expired_requests(world, clock, settings):
    settings.SURVEY_LINK_DAYS = 5
    clock(at(0))
    _, token = send_request(world)
    send_request(world, phase="assess", kind="nps")
    survey_answer(token=token, score=5)
    clock(at(7))
    assert survey_send_reminders(organization=world.org) == 0  # one answered, one expired


def test_send_is_once_and_needs_an_email(world, clock):
    clock(at(0))
    feedback, _ = send_request(world)
    assert survey_send(organization=world.org, feedback_id=feedback.pk) is None
    assert len(mail.outbox) == 1
    from journey.services import feedback_create

    world.contact.email = ""
    world.contact.save()
    with pytest.raises(JourneyError) as exc:
        feedback_create(
            actor=world.am,
            project=world.project.pk,
            contact=world.contact.pk,
            kind="csat",
            phase="assess",
        )
    assert exc.value.field == "contact"


def test_request_for_another_organizations_contact_or_project_is_refused(world, other_world, clock):
    from journey.services import feedback_create

    clock(at(0))
    for project, contact, field in [
        (other_world.project.pk, world.contact.pk, "project"),
        (world.project.pk, other_world.contact.pk, "contact"),
    ]:
        with pytest.raises(JourneyError) as exc:
            feedback_create(
                actor=world.am, project=project, contact=contact, kind="csat", phase="assess"
            )
        assert exc.value.field == field
    assert not Feedback.objects.for_organization(world.org).exists()
    assert not Feedback.objects.for_organization(other_world.org).exists()


def test_response_rate_per_project_and_client(world, clock, settings):
    clock(at(0))
    _, t1 = send_request(world)
    _, _t2 = send_request(world, kind="nps")
    send_request(world)
    survey_answer(token=t1, score=4)
    settings.SURVEY_LINK_DAYS = 30
    clock(at(31))
    rate = survey_response_rate(organization=world.org, project_id=world.project.pk)
    assert (rate.sent, rate.answered, rate.pending, rate.expired, rate.reminded) == (3, 1, 0, 2, 0)
    assert rate.rate == pytest.approx(1 / 3)
    by_client = survey_response_rates_by_client(organization=world.org)
    assert by_client[world.client.pk] == rate
    empty = survey_response_rate(organization=world.org, project_id=10**6)
    assert empty.sent == 0 and empty.rate is None


def test_expiry_is_a_setting(world, clock, settings):
    settings.SURVEY_LINK_DAYS = 3
    clock(at(0))
    feedback, _ = send_request(world)
    assert feedback.expires_at == at(0) + dt.timedelta(days=3)


class MailServerDown(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("mail server went away")


def test_a_failing_mail_server_keeps_the_email_for_a_retry(world, clock, settings):
    clock(at(0))
    from journey.services import feedback_create

    feedback = feedback_create(
        actor=world.am,
        project=world.project.pk,
        contact=world.contact.pk,
        kind="csat",
        phase="assess",
    )
    settings.EMAIL_BACKEND = f"{__name__}.MailServerDown"
    with committed():
        token = survey_send(organization=world.org, feedback_id=feedback.pk)
    assert token and mail.outbox == []
    # Sent once (sent_at claimed, one link); the e-mail waits in the outbox for its retry.
    [row] = OutboxMessage.objects.for_organization(world.org).filter(kind="email")
    assert (row.status, row.attempts) == ("failed", 1)
    assert "mail server went away" in row.last_error and row.next_attempt_at == at(0, minutes=1)
    assert survey_send(organization=world.org, feedback_id=feedback.pk) is None
    assert SurveyLink.objects.for_organization(world.org).count() == 1
    # The mail server is back: the retry (the flush, when due) sends that same e-mail once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clock(at(0, minutes=1))
    outbox_flush_due_across_organizations()
    outbox_flush_due_across_organizations()  # nothing is due twice
    assert tokens_in_outbox() == [token]
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("done", 2)
    assert token not in str(row.payload)  # the body (and its link) is not kept once sent


def test_the_daily_fan_out_queues_every_organization(world, other_world, clock):
    from engagement.tasks import engagement_daily_all_task

    clock(at(25))
    assert engagement_daily_all_task() == 2
    from engagement.models import ClientHealthSnapshot

    for w in (world, other_world):
        assert ClientHealthSnapshot.objects.for_organization(w.org).filter(client=w.client).exists()


def test_send_and_reminders_stay_inside_the_organization(world, other_world, clock):
    from journey.services import feedback_create

    clock(at(0))
    feedback = feedback_create(
        actor=world.am,
        project=world.project.pk,
        contact=world.contact.pk,
        kind="csat",
        phase="assess",
    )
    assert survey_send(organization=other_world.org, feedback_id=feedback.pk) is None
    assert mail.outbox == []
    survey_send(organization=world.org, feedback_id=feedback.pk)
    clock(at(8))
    assert survey_send_reminders(organization=other_world.org) == 0
    assert survey_send_reminders(organization=world.org) == 1


def test_a_request_through_the_feedback_endpoint_is_emailed_too(
    world, clock, key_client, django_capture_on_commit_callbacks
):
    clock(at(0))
    with django_capture_on_commit_callbacks(execute=True):
        response = key_client(world.org).post(
            "/api/v1/feedback/",
            {
                "project": world.project.pk,
                "kind": "nps",
                "phase": "assess",
                "contact": world.contact.pk,
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    request = Feedback.objects.for_organization(world.org).get(pk=response.json()["id"])
    assert (request.origin, request.sent_at, request.expires_at) == ("request", at(0), at(30))
    assert len(mail.outbox) == 1 and tokens_in_outbox()


# --- tokens name their organization ---------------------------------------------------------
def legacy_link(world) -> tuple[Feedback, str]:
    """A request sent before tokens carried the public id: its link is a bare
    `token_urlsafe(32)`, stored by its hash."""
    feedback, _token = send_request(world)
    token = secrets.token_urlsafe(32)
    SurveyLink.objects.create(
        organization=world.org, feedback=feedback, token_hash=token_hash(token)
    )
    return feedback, token


def test_a_new_token_names_the_organization_and_works_end_to_end(world, clock):
    clock(at(0))
    feedback, token = send_request(world)
    public_id, separator, secret = token.partition(".")
    assert (public_id, separator) == (world.org.public_id, ".") and len(secret) >= 43
    assert len(token) <= MAX_TOKEN_LENGTH
    state = survey_lookup(token=token)
    assert (state.status, state.feedback.pk, state.link.organization) == (
        "open",
        feedback.pk,
        world.org,
    )
    browser = BrowserClient()
    assert browser.get(page(token)).status_code == 200
    response = browser.post(page(token), {"score": "5", "comment": "Great kick-off."})
    assert response.status_code == 302 and response["Location"] == page(token)
    feedback.refresh_from_db()
    assert (feedback.score, feedback.comment) == (5, "Great kick-off.")
    assert survey_lookup(token=token).status == "answered"


def test_a_token_naming_another_organization_is_unknown(world, other_world, clock):
    clock(at(0))
    feedback, token = send_request(world)
    _theirs, their_token = send_request(other_world)
    secret = token.partition(".")[2]
    for guess in (
        f"{other_world.org.public_id}.{secret}",  # the other organization's id
        f"{their_token.partition('.')[0]}.{secret}",
        f"aaaaaaaaaa.{secret}",  # well-formed, nobody's
        f"{world.org.public_id.upper()}.{secret}",
        f".{secret}",
        secret,  # the secret alone is not a legacy token either
    ):
        assert survey_lookup(token=guess).status == "unknown", guess
        assert BrowserClient().get(page(guess)).status_code == 404
        with pytest.raises(JourneyError) as exc:
            survey_answer(token=guess, score=1)
        assert exc.value.code == "unknown"
    feedback.refresh_from_db()
    assert feedback.score is None
    assert survey_lookup(token=token).status == "open"


def test_a_link_emailed_before_tokens_named_the_organization_still_works(world, other_world, clock):
    clock(at(0))
    feedback, token = legacy_link(world)
    assert "." not in token
    state = survey_lookup(token=token)
    assert (state.status, state.feedback.pk, state.link.organization) == (
        "open",
        feedback.pk,
        world.org,
    )
    assert BrowserClient().get(page(token)).status_code == 200
    survey_answer(token=token, score=2, comment="Late start.")
    feedback.refresh_from_db()
    assert (feedback.score, feedback.comment) == (2, "Late start.")
    assert survey_lookup(token=token).status == "answered"
    # It dies with its request's expiry like any link.
    _other, old_token = legacy_link(other_world)
    clock(at(30))
    assert survey_lookup(token=old_token).status == "expired"


def test_two_organizations_may_hold_the_same_token_hash(world, other_world, clock):
    clock(at(0))
    mine, token = legacy_link(world)
    theirs, _ = send_request(other_world)
    SurveyLink.objects.create(
        organization=other_world.org, feedback=theirs, token_hash=token_hash(token)
    )
    assert (
        SurveyLink.objects.unscoped_dangerously().filter(token_hash=token_hash(token)).count() == 2
    )
    # A legacy token found in two organizations opens neither.
    assert survey_lookup(token=token).status == "unknown"
    # A new token's hash covers its organization's id, so each finds its own.
    new_mine, my_token = send_request(world)
    assert survey_lookup(token=my_token).feedback.pk == new_mine.pk
    # Inside one organization a hash is still unique.
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyLink.objects.create(
            organization=world.org, feedback=mine, token_hash=token_hash(token)
        )
