"""The survey link in real Chromium on a phone-sized screen: the contact opens the e-mailed
link, answers 2 of 5 with a comment; the account manager then finds the follow-up alert and
resolves it (over the API here; the inbox page belongs to the browser app)."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.permissions import Actor
from journey.models import Feedback
from journey.services import project_transition
from tests.factories import ClientFactory, ContactFactory, MembershipFactory, ProjectFactory

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None

_why = None
if sync_playwright is None:
    _why = "playwright is not installed (pip install -e '.[dev]')"
elif not Path(CHROMIUM).exists():
    _why = f"no Chromium at {CHROMIUM}"
if _why:
    warnings.warn(f"BROWSER TESTS SKIPPED: {_why}", stacklevel=1)
    pytest.skip(f"BROWSER TESTS SKIPPED: {_why}", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(live_server):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            base_url=live_server.url,
        )
        context.set_default_timeout(10_000)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        yield tab
        browser.close()
        assert not errors, errors
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_contact_answers_on_a_phone_and_the_am_closes_the_loop(phone, live_server, settings):
    settings.SITE_URL = live_server.url
    membership = MembershipFactory(role=Role.ACCOUNT_MANAGER, user__full_name="Amy Account")
    organization = membership.organization
    client = ClientFactory(
        organization=organization, name="Tiny Bio", account_manager=membership.user
    )
    ContactFactory(
        client=client,
        organization=organization,
        name="Dana Sponsor",
        is_primary=True,
        email="dana@tiny.example",
    )
    project = ProjectFactory(client=client, name="Cell line scale-up", code="TB-1")
    # A real commit: the gate survey task runs after it and e-mails the link.
    project_transition(actor=Actor.system(organization), project_id=project.pk, to="initiate")
    [message] = mail.outbox
    url = re.search(r"https?://\S+/survey/\S+/", message.body).group(0)

    phone.goto(url)
    expect(phone.locator("h1")).to_contain_text("Cell line scale-up")
    # Nothing wider than the phone: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(SHOTS / "survey-phone.png"), full_page=True)
    phone.click("button[type=submit]")  # no score yet: the form again, with the error inline
    expect(phone.locator("[data-error-for=score]")).to_have_text("Choose a score from 1 to 5.")
    phone.locator("label[for=score-2]").tap()
    phone.fill("textarea[name=comment]", "Kick-off was chaotic.")
    phone.click("button[type=submit]")
    expect(phone.locator("h1")).to_have_text("Thank you for your feedback")
    phone.screenshot(path=str(SHOTS / "survey-phone-thanks.png"), full_page=True)
    phone.goto(url)  # the link is used up
    expect(phone.locator("[data-survey-status]")).to_have_attribute(
        "data-survey-status", "answered"
    )

    answer = Feedback.objects.for_organization(organization).get(origin="gate")
    assert (answer.score, answer.comment) == (2, "Kick-off was chaotic.")
    am = APIClient()
    am.force_login(membership.user)
    inbox = am.get("/api/v1/alerts/", {"mine": "true", "state": "open"}).json()
    assert [a["message"] for a in inbox["results"]] == ["Kick-off was chaotic."]
    alert_id = inbox["results"][0]["id"]
    response = am.post(
        f"/api/v1/alerts/{alert_id}/resolve/", {"note": "Called Dana."}, format="json"
    )
    assert response.status_code == 200
    assert am.get("/api/v1/alerts/", {"mine": "true", "state": "open"}).json()["count"] == 0
