"""The browser app in real Chromium (Debian's package, driven by Playwright) against a live
server: the demo roles log in, an AM creates a client and logs a touchpoint, a PM wins an
assessment and is refused a skipped phase, an executive filters the dashboard and its charts
redraw, a viewer finds no edit controls. Screenshots land in test-artifacts/screenshots/.

One browser for the whole session; one context (cookies) per test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from journey.models import Client, Project, Touchpoint
from tests.web.browser_support import SHOTS, check, skip_module_without_browser, watch

skip_module_without_browser()
from playwright.sync_api import expect  # noqa: E402 - only once Playwright is known present

pytest_plugins = ["tests.web.browser"]  # the session's one Chromium: `browser`
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHART_JS = Path(settings.BASE_DIR) / "static" / "vendor" / "chart.umd.min.js"


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems = watch(tab)
    yield tab
    context.close()
    check(tab, problems)


def log_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def tour(page, accounts, password: str, prefix: str) -> None:
    """Log in as each role, check its badge and navigation, screenshot its main pages."""
    page.goto("/accounts/login/")
    shot(page, f"{prefix}login")
    for email, role, first_nav, landing, pages in accounts:
        page.context.clear_cookies()
        log_in(page, email, password)
        expect(page).to_have_url(re.compile(re.escape(landing) + "$"))
        expect(page.get_by_test_id("role")).to_have_text(role)
        assert page.locator(".nav a").first.get_attribute("data-nav") == first_nav
        who = email.split("@")[0]
        for path in pages:
            page.goto(path)
            expect(page.locator("h1").first).to_be_visible()
            shot(page, f"{prefix}{who}-{path.strip('/').replace('/', '-') or 'home'}")
    # The richest pages, as the last role sees them, and the board on a tablet.
    page.goto("/projects/")
    page.locator("[data-testid=project-table] .title-cell a").first.click()
    expect(page.get_by_test_id("journey")).to_be_visible()
    shot(page, f"{prefix}project")
    page.goto("/clients/")
    page.locator("[data-testid=client-table] .title-cell a").first.click()
    expect(page.get_by_test_id("timeline")).to_be_visible()
    shot(page, f"{prefix}client")
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, portrait
    page.goto("/board/")
    shot(page, f"{prefix}tablet-board")
    page.goto("/dashboard/")
    shot(page, f"{prefix}tablet-dashboard")


def accounts_of(domain: str) -> list[tuple[str, str, str, str, list[str]]]:
    """(e-mail, role badge, first navigation item, landing page, pages to screenshot)."""
    return [
        (f"admin@{domain}", "Admin", "home", "/", ["/", "/clients/", "/settings/"]),
        (f"exec@{domain}", "Executive", "dashboard", "/dashboard/", ["/dashboard/"]),
        (f"am@{domain}", "Account manager", "home", "/", ["/", "/alerts/", "/clients/"]),
        (f"pm@{domain}", "Project manager", "mine", "/projects/mine/", ["/board/"]),
        (f"viewer@{domain}", "Viewer", "home", "/", ["/board/"]),
    ]


def test_each_role_logs_in_and_lands_on_its_pages(page, world):
    from metrics.services import metrics_recompute
    from tests.web.conftest import add_engagement, grow

    grow(world, 60)
    add_engagement(world)
    metrics_recompute(organization=world.org)
    tour(page, accounts_of("alpha.example"), "pw-for-tests-1", prefix="")


@pytest.mark.skipif(
    not os.environ.get("WEB_DEMO_TOUR"),
    reason="the demo tour seeds the whole demo organization: `make screenshots` runs it",
)
def test_demo_tour(page):
    """The same tour on the real demo data (`seed_demo`), for screenshots worth looking at."""
    from accounts.models import Organization
    from engagement.demo import DEFAULT_PASSWORD
    from metrics.services import metrics_recompute

    call_command("seed_demo", verbosity=0)
    metrics_recompute(organization=Organization.objects.get(slug="demo"))
    tour(page, accounts_of("demo.example"), DEFAULT_PASSWORD, prefix="demo-")


def test_am_creates_a_client_and_logs_a_touchpoint(page, world):
    log_in(page, "am@alpha.example", "pw-for-tests-1")
    page.click("a[data-nav=clients]")
    page.get_by_test_id("new-client").click()
    page.fill("#id_name", "Helix Therapeutics")
    page.select_option("#id_segment", "virtual_biotech")
    page.check("input[name=modalities][value=gene_therapy]")
    page.select_option("#id_account_manager", "am@alpha.example")
    shot(page, "am-client-form")
    page.click("button:has-text('Create client')")
    expect(page.locator("h1")).to_have_text("Helix Therapeutics")
    expect(page.locator(".sub").first).to_contain_text("Consultative")  # from the segment
    helix = Client.objects.for_organization(world.org).get(name="Helix Therapeutics")

    form = page.get_by_test_id("touchpoint-form")
    form.locator("#id_kind").select_option("call")
    form.locator("#id_at").fill("2099-01-01T10:00")  # inline refusal: the future
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-error-for=at]")).to_contain_text("in the future")
    assert not Touchpoint.objects.for_organization(world.org).filter(client=helix).exists()
    form = page.get_by_test_id("touchpoint-form")
    form.locator("#id_at").fill("2024-05-06T09:30")
    form.locator("#id_senior_leader_present").check()
    form.locator("#id_summary").fill("Intro call with the CSO")
    form.locator("button[type=submit]").click()
    expect(page.locator("#activity [role=status]")).to_contain_text("Touchpoint logged.")
    expect(page.get_by_test_id("timeline")).to_contain_text("Intro call with the CSO")
    expect(page.get_by_test_id("timeline")).to_contain_text("Call · senior leader present")
    shot(page, "am-client-page")
    tp = Touchpoint.objects.for_organization(world.org).get(client=helix)
    assert tp.kind == "call" and tp.senior_leader_present and tp.by.email == "am@alpha.example"


def test_pm_wins_an_assessment_then_is_refused_a_skip(page, world):
    log_in(page, "pm@alpha.example", "pw-for-tests-1")
    expect(page).to_have_url(re.compile(r"/$"))
    page.click("a[data-nav=mine]")
    page.click("text=Assess me")
    journey = page.get_by_test_id("journey")
    expect(journey.get_by_test_id("project-phase")).to_contain_text("Assess")
    moves = sorted(b.get_attribute("data-move") for b in page.locator("[data-move]").all())
    assert moves == ["cancelled", "initiate", "lost", "on_hold"]  # only the allowed moves
    page.click("[data-move=initiate]")
    expect(page.locator("#journey [role=status]")).to_contain_text("now in initiate")
    expect(page.get_by_test_id("project-phase")).to_contain_text("Initiate")
    expect(page.get_by_test_id("project-timeline")).to_contain_text("Won: moved to initiate")
    world.assess.refresh_from_db()
    assert world.assess.phase == "initiate"
    # Skipping a phase is not offered; a stale or forged form asking for it is refused by the
    # service, and the message shows inline.
    assert page.locator("[data-move=execute]").count() == 0
    page.locator("[data-move=plan]").evaluate("b => { b.value = 'execute' }")
    page.click("[data-move=plan]")
    expect(page.locator("[data-error-for=to]")).to_contain_text(
        "Projects move one phase at a time: from initiate the next phase is plan."
    )
    shot(page, "pm-project-refused-skip")
    world.assess.refresh_from_db()
    assert world.assess.phase == "initiate"
    page.click("a[data-nav=board]")
    expect(page.locator("[data-phase=initiate]")).to_contain_text("Assess me")
    shot(page, "pm-board")
    # Handed to another PM while the page is open: the move is a 403, and the page says so.
    page.goto(f"/projects/{world.assess.pk}/")
    Project.objects.for_organization(world.org).filter(pk=world.assess.pk).update(
        project_manager=world.people["pm2"].user
    )
    page.allowed_errors += ["status of 403", "Error Code 403"]
    page.click("[data-move=plan]")
    expect(page.locator(".flash.error")).to_contain_text("Your role does not allow this action.")
    world.assess.refresh_from_db()
    assert world.assess.phase == "initiate"


def test_executive_filters_the_dashboard_and_the_charts_redraw(page, world):
    if not CHART_JS.exists():
        pytest.fail(f"{CHART_JS} is missing: run `make assets` (npm ci) first")
    from metrics.services import metrics_recompute

    metrics_recompute(organization=world.org)
    log_in(page, "exec@alpha.example", "pw-for-tests-1")
    expect(page).to_have_url(re.compile(r"/$"))
    page.click("a[data-nav=dashboard]")
    expect(page.locator("body")).to_have_attribute("data-charts-rendered", "1")
    charts = page.evaluate("window.dashboardCharts.length")
    assert charts >= 2
    page.select_option("[data-testid=slice]", "segment:biotech")
    expect(page.get_by_test_id("dashboard")).to_have_attribute("data-slice", "segment:biotech")
    expect(page.locator("body")).to_have_attribute("data-charts-rendered", "2")
    expect(page).to_have_url(re.compile(r"slice=segment%3Abiotech"))
    shot(page, "exec-dashboard-biotech")
    page.select_option("[data-testid=slice]", "segment:big_pharma")
    expect(page.locator("body")).to_have_attribute("data-charts-rendered", "3")
    # A range preset moves "From" and the figures follow.
    to = page.input_value("#id_to")
    page.select_option("[data-testid=range]", "3")
    expect(page.locator("body")).to_have_attribute("data-charts-rendered", "4")
    expect(page).to_have_url(re.compile(r"from=\d{4}-\d{2}"))
    assert page.input_value("#id_to") == to
    assert len(page.evaluate("window.dashboardCharts[0].data.labels")) == 3
    page.get_by_test_id("recompute").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    # The finished run tells the body to reload: the charts redraw once more.
    expect(page.locator("body")).to_have_attribute("data-charts-rendered", "5")
    expect(page.get_by_test_id("dashboard")).to_have_attribute("data-slice", "segment:big_pharma")
    shot(page, "exec-dashboard-recomputed")


def test_viewer_finds_no_edit_controls(page, world):
    log_in(page, "viewer@alpha.example", "pw-for-tests-1")
    for path in (
        "/",
        "/clients/",
        f"/clients/{world.pharma.pk}/",
        f"/projects/{world.assess.pk}/",
        f"/projects/{world.running.pk}/",
        "/board/",
        "/dashboard/",
    ):
        page.goto(path)
        for selector in (
            "[data-testid=new-client]",
            "[data-testid=edit-client]",
            "[data-testid=touchpoint-form]",
            "[data-testid=transition-form]",
            "[data-testid=milestone-form]",
            "[data-testid=recompute]",
            "form[method=post]:not([action$='/logout/'])",
        ):
            assert page.locator(selector).count() == 0, (path, selector)
    shot(page, "viewer-project")
