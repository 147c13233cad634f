"""The Content-Security-Policy is strict (no 'unsafe-inline', no 'unsafe-eval'), so nothing the
app serves may carry an inline script or style: a scan of the templates says none does, the
header is on every kind of response, and real Chromium loads every main page (with its htmx
panels), the admin, the API docs and the public survey page without one CSP violation."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.web.browser_support import SHOTS, check, why_skipped
from tests.web.conftest import PASSWORD

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Not served under the CSP: e-mail bodies keep inline styles for mail clients.
EMAIL_TEMPLATES = {"engagement/surveys/email.html"}
INLINE = {
    "inline <script> (a script without src)": re.compile(
        r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
    ),
    "<style> block": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "on* handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on attribute": re.compile(r"\s(hx|data-hx)-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "htmx eval (js: / javascript: in hx-vals, hx-vars)": re.compile(r"hx-vars|hx-vals=['\"]js:"),
}
HX = {"HTTP_HX_REQUEST": "true"}
pytest_plugins = ["tests.web.browser"]  # the session's one Chromium: `browser`


def served_templates() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATES.rglob("*.html")
        if path.relative_to(TEMPLATES).as_posix() not in EMAIL_TEMPLATES
    )


def test_no_served_template_has_inline_script_or_style():
    found = []
    for path in served_templates():
        text = path.read_text()
        for what, pattern in INLINE.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert not found, "\n".join(found)
    assert len(served_templates()) > 30  # the scan sees the templates


def test_the_scan_catches_what_it_forbids():
    bad = [
        "<script>alert(1)</script>",
        "<style>p{}</style>",
        '<p style="color:red">',
        '<button onclick="go()">',
        '<select onchange="this.form.submit()">',
        '<form hx-on::after-request="x()">',
        '<a href="javascript:void(0)">',
    ]
    for snippet in bad:
        assert any(p.search(snippet) for p in INLINE.values()), snippet
    good = [
        '<script src="/static/js/app.js"></script>',
        '<script id="d" type="application/json">{}</script>',
        '<div class="bar" data-width="40">',
        '<rect width="10" height="4">',
    ]
    for snippet in good:
        assert not any(p.search(snippet) for p in INLINE.values()), snippet


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def assert_strict(response) -> None:
    policy = directives(response)
    for name in ("script-src", "style-src", "default-src"):
        assert policy[name] == ["'self'"], (name, policy)
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_strict_policy(world, login, client):
    assert_strict(client.get(reverse("accounts:login")))
    web = login(world.people["admin"])
    assert_strict(web.get(reverse("client_detail", args=[world.pharma.pk])))
    partial = web.get(reverse("client_health_panel", args=[world.pharma.pk]), **HX)
    assert partial.status_code == 200
    assert_strict(partial)
    api = web.get("/api/v1/clients/")
    assert api.status_code == 200 and api["Content-Type"].startswith("application/json")
    assert_strict(api)
    assert_strict(web.get("/api/v1/docs/"))


@pytest.mark.django_db
def test_the_api_docs_page_has_no_inline_script(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in s for s in scripts), scripts
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", html)
    script = re.search(r'<script src="([^"]*\?script=[^"]*)"', html)
    assert script, html
    code = client.get(script.group(1).replace("&amp;", "&"))
    assert code.status_code == 200 and "SwaggerUIBundle" in code.content.decode()


# --- Real Chromium ---------------------------------------------------------------------------

# Added before any page script runs: every violation is reported to the test (the binding
# survives navigations, unlike a list kept in the page).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolation([e.violatedDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber,
                         e.sample].join(" | "));
});
"""
SHOTS_DIR = Path(os.environ.get("CSP_SHOTS_DIR", str(SHOTS / "csp")))


@pytest.fixture
def csp_browser(request):
    why = why_skipped()
    if why:
        pytest.skip(f"BROWSER TESTS SKIPPED: {why}")
    return request.getfixturevalue("browser")


def open_tab(browser, live_server, width: int):
    context = browser.new_context(
        viewport={"width": width, "height": 900}, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text} ({msg.location['url']})")
            if msg.type == "error"
            else None
        ),
    )
    tab.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    tab.expose_function("__cspViolation", lambda text: problems.append(f"CSP violation: {text}"))
    tab.add_init_script(REPORT_VIOLATIONS)
    # The admin's pages name no icon, so Chromium asks for /favicon.ico: a 404, not the CSP.
    tab.allowed_errors = ["/favicon.ico"]
    return tab, problems


def log_in(tab, email: str, password: str = PASSWORD) -> None:
    tab.goto("/accounts/login/")
    tab.fill("input[name=username]", email)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(r".*/$"))


def settled(tab) -> None:
    """Every lazy htmx panel has arrived and htmx is idle."""
    tab.wait_for_load_state("networkidle")
    tab.wait_for_function(
        "() => !document.querySelector('.htmx-request') && ![...document.querySelectorAll("
        "'.lazy-panel')].some(p => p.textContent.includes('Loading'))"
    )


def no_problems(tab, problems: list[str], where: str) -> None:
    found = [p for p in problems if not any(a in p for a in tab.allowed_errors)]
    assert not found, (where, found)


def shoot(tab, name: str, width: int) -> None:
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS_DIR / f"{name}-{width}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_main_pages_load_without_a_csp_violation(csp_browser, live_server, world, width):
    from django.core import mail

    from accounts.models import User
    from journey.services import feedback_create
    from metrics.services import metrics_recompute
    from tests.factories import MembershipFactory
    from tests.web.conftest import add_engagement

    add_engagement(world)
    metrics_recompute(organization=world.org)
    admin = world.people["admin"]
    # A second organization: the sidebar's organization switch (a select that submits).
    MembershipFactory(user=admin.user, role="admin", organization__name="Beta CDMO")
    mail.outbox.clear()
    feedback_create(  # a survey request: its e-mail carries the public link
        actor=world.people["am"],
        project=world.running.pk,
        contact=world.contact.pk,
        kind="nps",
        phase="execute",
    )
    survey = re.search(r"/survey/\S+/", mail.outbox[-1].body).group(0)
    User.objects.create_superuser(email="root@alpha.example", password=PASSWORD)

    tab, problems = open_tab(csp_browser, live_server, width)
    tab.goto("/accounts/login/")
    shoot(tab, "login", width)
    no_problems(tab, problems, "login")
    tab.goto(survey)
    tab.locator("h1").first.wait_for()
    shoot(tab, "survey", width)
    no_problems(tab, problems, "survey")

    log_in(tab, admin.user.email)
    pages = {
        "home": "/",
        "clients": "/clients/",
        "client": f"/clients/{world.pharma.pk}/",
        "project": f"/projects/{world.running.pk}/",
        "board": "/board/",
        "dashboard": "/dashboard/",
        "settings": "/settings/",
        "alerts": "/alerts/",
        "audit": "/accounts/audit/",
    }
    for name, path in pages.items():
        tab.goto(path)
        settled(tab)
        assert tab.locator("h1").first.is_visible(), name
        shoot(tab, name, width)
        no_problems(tab, problems, name)

    # Behaviour that used to be inline: the playbook's "use the median" buttons fill the
    # target, and the organization switch submits on change. htmx evaluates no JS (allowEval
    # off), and the clients filter (a trigger with a CSS selector) still searches as you type.
    # The dashboard's body swapped by htmx (a filter), its charts redrawn.
    tab.goto("/dashboard/")
    tab.wait_for_function("() => document.body.dataset.chartsRendered === '1'")
    tab.select_option("[data-testid=slice]", "segment:big_pharma")
    tab.wait_for_function("() => document.body.dataset.chartsRendered === '2'")
    no_problems(tab, problems, "dashboard filtered")
    tab.goto("/settings/")
    median = tab.locator("[data-p50] button[data-fill-target]").first
    median.wait_for()
    target = tab.locator("#" + median.get_attribute("data-fill-target"))
    target.fill("")
    median.click()
    assert target.input_value() == median.get_attribute("data-fill-value") != ""
    tab.goto("/clients/")
    with tab.expect_response(lambda r: "search=Tiny" in r.url):
        tab.locator("input[name=search]").press_sequentially("Tiny")  # typing, no change event
    tab.locator("#results", has_text="Tiny Bio").wait_for()
    assert "Bigco Pharma" not in tab.locator("#results").inner_text()
    switch = tab.locator("#org-switch")
    beta = switch.locator("option", has_text="Beta CDMO").get_attribute("value")
    with tab.expect_navigation():
        switch.select_option(beta)
    assert tab.get_by_test_id("org-name").count() == 0  # still a switch: two organizations
    assert switch.locator("option:checked").inner_text() == "Beta CDMO"

    # Pages that are not ours: the admin and the API docs.
    tab.context.clear_cookies()
    tab.goto("/admin/login/")
    shoot(tab, "admin-login", width)
    tab.fill("input[name=username]", "root@alpha.example")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_url(re.compile(r"/admin/$"))
    tab.goto("/admin/journey/project/")
    tab.locator("#result_list").wait_for()
    shoot(tab, "admin-projects", width)
    tab.goto("/api/v1/docs/")
    tab.locator(".swagger-ui .information-container").wait_for()
    shoot(tab, "api-docs", width)

    tab.context.close()
    check(tab, problems)
