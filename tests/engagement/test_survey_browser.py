"""The closed loop in real Chromium: on a phone-sized screen the contact opens the e-mailed
link (from the e-mail outbox) and answers 2 of 5 with a comment; the account manager then
logs in on a desktop, sees the alert counted in the navigation and on the overview, and
resolves it with a note in the alert inbox. Uses the session's one browser."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Role
from accounts.permissions import Actor
from engagement.models import Alert
from journey.models import Feedback
from journey.services import project_transition
from tests.factories import ClientFactory, ContactFactory, MembershipFactory, ProjectFactory
from tests.web.browser_support import SHOTS, check, skip_module_without_browser, watch

skip_module_without_browser()
from playwright.sync_api import expect  # noqa: E402 - only once Playwright is known present

pytest_plugins = ["tests.web.browser"]  # the session's one Chromium: `browser`
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"  # the factories' password


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems = watch(tab)
    yield tab
    context.close()
    check(tab, problems)


@pytest.fixture
def desk(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems = watch(tab)
    yield tab
    context.close()
    check(tab, problems)


def test_contact_answers_on_a_phone_and_the_am_closes_the_loop(phone, desk, live_server, settings):
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
    phone.allowed_errors += ["status of 400"]  # the refused answer below is a 400 page
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
    alert = Alert.objects.for_organization(organization).get(assignee=membership.user)

    # The account manager: the count in the navigation, the alert on the overview, the inbox.
    desk.goto("/accounts/login/")
    desk.fill("input[name=username]", membership.user.email)
    desk.fill("input[name=password]", PASSWORD)
    desk.click("button[type=submit]")
    expect(desk.get_by_test_id("nav-alert-count")).to_have_text("1")
    expect(desk.get_by_test_id("home-alerts")).to_contain_text("Kick-off was chaotic.")
    desk.click("a[data-nav=alerts]")
    row = desk.locator(f"#alert-{alert.pk}")
    expect(row).to_contain_text("CSAT 2/5 from Dana Sponsor on TB-1")
    expect(row).to_contain_text("Kick-off was chaotic.")
    row.get_by_test_id("resolve").locator("summary").click()
    row.locator("button[type=submit]").first.click()  # no note: refused inline
    expect(row.locator("[data-error-for=note]")).to_have_text("This field may not be blank.")
    row.locator("textarea").fill("Called Dana: new kick-off plan agreed.")
    desk.screenshot(path=str(SHOTS / "am-alert-inbox.png"), full_page=True)
    row.locator("button[type=submit]").first.click()
    expect(desk.get_by_test_id("alert-done")).to_contain_text("Resolved. Amy Account")
    expect(desk.get_by_test_id("nav-alert-count")).to_have_text("0")
    expect(desk.locator("[data-state=open] .count")).to_have_text("0")  # the tab follows
    desk.screenshot(path=str(SHOTS / "am-alert-resolved.png"), full_page=True)
    alert.refresh_from_db()
    assert alert.resolved_by == membership.user
    assert alert.resolution_note == "Called Dana: new kick-off plan agreed."
    desk.click("[data-state=resolved]")
    expect(desk.locator(f"#alert-{alert.pk}")).to_contain_text("Called Dana")
