"""The History card of the client and project pages: the changes made through the services,
newest first, with who, before and after, and the reason; "Show older" pages by a cursor
without repeats; another organization's client or project is a 404; every member may read
it; the partial's query count does not grow with the number of events."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AuditEvent
from accounts.selectors import AuditCursor, audit_events_for_objects
from journey import services
from tests.factories import ClientFactory
from tests.web.browser_support import SHOTS, check, watch, why_skipped
from tests.web.conftest import PASSWORD, page

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
ENTRY = re.compile(r'<li class="history-entry[^"]*" data-audit="(\d+)">(.*?)</li>', re.S)
OLDER = re.compile(r'hx-get="([^"]+)"[^>]*data-testid="history-older"')


def entries(html: str) -> list[tuple[int, str]]:
    """(audit event id, the entry's text with tags stripped and spaces collapsed)."""
    out = []
    for pk, body in ENTRY.findall(html):
        text = re.sub(r"</?(?:div|li|p|ol)\b[^>]*>", " ", body)
        text = htmllib.unescape(re.sub(r"<[^>]+>", "", text))
        out.append((int(pk), " ".join(text.split())))
    return out


def older_url(html: str) -> str | None:
    match = OLDER.search(html)
    return htmllib.unescape(match[1]) if match else None


def history(http, url: str):
    response = http.get(url, **HX)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def acme(world):
    """A client the account manager creates, renames, annotates, then gives a contact whom
    the admin edits; meanwhile another client and another contact change too."""
    am, admin = world.people["am"], world.people["admin"]
    client = services.client_create(actor=am, name="Acme Bio", segment="biotech")
    services.client_update(actor=am, client_id=client.pk, name="Acme Biologics")
    services.client_update(actor=admin, client_id=client.pk, notes="Prefers e-mail")
    contact = services.contact_create(actor=am, client=client.pk, name="Cora Contact")
    services.contact_update(actor=admin, contact_id=contact.pk, title="Head of CMC")
    # Changes elsewhere: the same kinds of rows, other objects.
    services.client_update(actor=am, client_id=world.pharma.pk, notes="Not Acme's business")
    services.contact_update(actor=am, contact_id=world.contact.pk, title="Someone else's title")
    return client, contact


def test_client_history_shows_its_changes_and_its_contacts_newest_first(world, login, acme):
    client, contact = acme
    html = history(login(world.people["viewer"]), reverse("client_history", args=[client.pk]))
    rows = entries(html)
    ids = [pk for pk, _ in rows]
    expected = list(
        AuditEvent.objects.for_organization(world.org)
        .filter(
            Q(object_type="journey.client", object_id=client.pk)
            | Q(object_type="journey.contact", object_id=contact.pk)
        )
        .values_list("id", flat=True)
    )
    assert len(ids) == 5 and sorted(ids) == sorted(expected)
    assert ids == sorted(ids, reverse=True)  # newest first
    texts = [text for _, text in rows]
    assert "Changed contact “Cora Contact”" in texts[0]
    assert "Ada Admin" in texts[0] and "Title: — → Head of CMC" in texts[0]
    assert "Added contact “Cora Contact”" in texts[1] and "Name: Cora Contact" in texts[1]
    assert "Client:" not in texts[1]  # the page's own client, not repeated
    assert "Changed the client" in texts[2] and "Notes: — → Prefers e-mail" in texts[2]
    assert "Changed the client" in texts[3] and "Amy Account" in texts[3]
    assert "Name: Acme Bio → Acme Biologics" in texts[3]
    assert "Created the client" in texts[4] and "Segment: Biotech" in texts[4]
    assert "Account manager: Amy Account" in texts[4]  # a person by name, not an id
    assert "Not Acme's business" not in html and "Someone else's title" not in html
    assert older_url(html) is None
    # When: relative ("now", "3 hours ago") and absolute, in the organization's time zone.
    assert re.match(r"^(now|an? \w+ ago|\d+ \w+ ago) · \d{4}-\d\d-\d\d \d\d:\d\d UTC · ", texts[0])
    assert '<time datetime="' in html


def test_project_history_shows_phase_moves_with_reason_and_milestones(world, login):
    am, admin = world.people["am"], world.people["admin"]
    project = services.project_open(
        actor=am,
        client=world.pharma.pk,
        name="Fill-finish",
        code="BIG-900",
        modality="biologic",
        project_manager=world.people["pm"].user.email,
    )
    services.project_transition(actor=am, project_id=project.pk, to="initiate")
    services.project_transition(actor=am, project_id=project.pk, to="plan")
    services.project_transition(
        actor=admin, project_id=project.pk, to="initiate", reason="The PO was not signed"
    )
    milestone = services.milestone_create(
        actor=am,
        project=project.pk,
        title="Tech transfer",
        phase="initiate",
        due_date=timezone.now().date() + dt.timedelta(days=30),
    )
    services.milestone_complete(actor=am, milestone_id=milestone.pk)
    # Another project's move and milestone: not this project's history.
    services.project_transition(actor=am, project_id=world.assess.pk, to="initiate")
    services.milestone_update(actor=am, milestone_id=world.milestone.pk, title="Other title")

    html = history(login(world.people["pm2"]), reverse("project_history", args=[project.pk]))
    rows = entries(html)
    texts = [text for _, text in rows]
    assert len(rows) == 6, texts
    assert [pk for pk, _ in rows] == sorted((pk for pk, _ in rows), reverse=True)
    assert "Completed milestone “Tech transfer”" in texts[0] and "Completed at: — → " in texts[0]
    assert "Added milestone “Tech transfer”" in texts[1] and "Phase: Initiate" in texts[1]
    assert "Project:" not in texts[1]
    assert "Corrected from Plan to Initiate" in texts[2] and "Ada Admin" in texts[2]
    assert "Reason: The PO was not signed" in texts[2]
    assert "Moved from Initiate to Plan" in texts[3] and "Reason" not in texts[3]
    assert "Won: moved from Assess to Initiate" in texts[4] and "Amy Account" in texts[4]
    assert "Created the project" in texts[5] and "Project manager: Pat Project" in texts[5]
    assert "Client: Bigco Pharma" in texts[5]
    assert "Journal seq" not in html  # bookkeeping fields are no change a person made
    assert "Other title" not in html and world.assess.code not in html


def test_show_older_pages_through_without_repeats(world, login):
    am = world.people["am"]
    client = services.client_create(actor=am, name="Pager", segment="biotech")
    for i in range(22):
        services.client_update(actor=am, client_id=client.pk, notes=f"note {i}")
    http = login(am)
    url = reverse("client_history", args=[client.pk])
    html = history(http, url)
    assert 'data-testid="history-list"' in html
    pages = [entries(html)]
    while next_url := older_url(html):
        assert next_url.startswith(url + "?before=")
        html = history(http, next_url)
        assert 'data-testid="history"' not in html  # only the entries, appended in place
        pages.append(entries(html))
    assert [len(p) for p in pages] == [10, 10, 3]
    ids = [pk for p in pages for pk, _ in p]
    assert len(set(ids)) == 23 and ids == sorted(ids, reverse=True)
    assert "note 20 → note 21" in pages[0][0][1]
    assert "Created the client" in pages[2][-1][1]


def test_a_new_event_between_pages_does_not_repeat_an_entry(world, login):
    am = world.people["am"]
    client = services.client_create(actor=am, name="Moving", segment="biotech")
    for i in range(11):
        services.client_update(actor=am, client_id=client.pk, notes=f"note {i}")
    http = login(am)
    first = history(http, reverse("client_history", args=[client.pk]))
    services.client_update(actor=am, client_id=client.pk, notes="newer")
    second = history(http, older_url(first))
    seen = {pk for pk, _ in entries(first)}
    assert [pk for pk, _ in entries(second)] and not seen & {pk for pk, _ in entries(second)}
    assert len(seen) + len(entries(second)) == 12


def test_times_read_in_the_organizations_time_zone(world, login):
    world.org.timezone = "Europe/Berlin"
    world.org.save(update_fields=["timezone"])
    AuditEvent.objects.create(
        organization=world.org,
        at=dt.datetime(2025, 1, 15, 12, 0, tzinfo=dt.UTC),
        actor_label="nightly",
        action="update",
        object_type="journey.client",
        object_id=world.bio.pk,
        object_repr=world.bio.name,
        changes={"status": ["active", "dormant"]},
    )
    html = history(login(world.people["am"]), reverse("client_history", args=[world.bio.pk]))
    [(_, text)] = entries(html)
    assert re.match(r"^\d+ \w+(, \d+ \w+)? ago · 2025-01-15 13:00 CET · system \(nightly\)", text)
    assert "Status: Active → Dormant" in text


def test_empty_history(world, login):
    # A client written without the services (a fixture row): no events.
    html = history(login(world.people["am"]), reverse("client_history", args=[world.bio.pk]))
    assert "No changes recorded yet." in html and not entries(html)


@pytest.mark.parametrize("role", ["admin", "exec", "am", "pm", "pm2", "viewer"])
def test_every_member_may_read_the_history(world, login, acme, role):
    client, _ = acme
    http = login(world.people[role])
    assert len(entries(history(http, reverse("client_history", args=[client.pk])))) == 5
    project_url = reverse("project_history", args=[world.running.pk])
    assert entries(history(http, project_url))


def test_another_organizations_client_or_project_is_a_404(world, elsewhere, login):
    services.client_update(
        actor=elsewhere.people["am"], client_id=elsewhere.pharma.pk, notes="theirs"
    )
    http = login(world.people["admin"])
    token = AuditCursor(timezone.now(), 10**9).token
    for url in (
        reverse("client_history", args=[elsewhere.pharma.pk]),
        reverse("project_history", args=[elsewhere.running.pk]),
        reverse("client_history", args=[10**12]),
    ):
        assert http.get(url, **HX).status_code == 404
        assert http.get(url, {"before": token}, **HX).status_code == 404
    # Their events never answer for our ids, even an event naming the same type and id.
    AuditEvent.objects.create(
        organization=elsewhere.org,
        actor_label="x@beta.example",
        action="update",
        object_type="journey.client",
        object_id=world.pharma.pk,
        object_repr="Forged",
        changes={"notes": ["", "their secret"]},
    )
    mine = history(http, reverse("client_history", args=[world.pharma.pk]))
    assert "theirs" not in mine and "their secret" not in mine


def test_a_bad_cursor_is_a_400_not_a_500(world, login):
    http = login(world.people["am"])
    url = reverse("client_history", args=[world.pharma.pk])
    for bad in ("", "x", "12", "-1-2", "9" * 30 + "-1", "1-" + "9" * 30, "1.5-2", "\x00"):
        response = http.get(url, {"before": bad}, **HX)
        assert response.status_code == 400, bad
        assert b"not a position in the history" in response.content


def test_cursor_round_trip():
    at = dt.datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
    cursor = AuditCursor(at, 42)
    assert AuditCursor.parse(cursor.token) == cursor
    assert AuditCursor.parse(None) is None


def test_the_partials_query_count_does_not_grow_with_events(world, login):
    am, admin = world.people["am"], world.people["admin"]
    people = [am.user.email, world.people["exec"].user.email]
    client = ClientFactory(organization=world.org, name="Counted")  # written without events
    contact = services.contact_create(actor=am, client=client.pk, name="Counted Contact")

    def change(i: int) -> None:
        # Each change names a person (the account manager): the page resolves their names.
        services.client_update(
            actor=admin, client_id=client.pk, notes=str(i), account_manager=people[i % 2]
        )
        services.contact_update(actor=am, contact_id=contact.pk, title=f"t{i}")

    change(0)
    http = login(am)
    url = reverse("client_history", args=[client.pk])
    http.get(url, **HX)  # warm the session

    def measure() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            html = history(http, url)
        return len(queries), len(entries(html))

    few, shown = measure()
    assert shown == 3
    for i in range(1, 15):
        change(i)
    many, shown = measure()
    assert (
        shown == 10
        and AuditEvent.objects.for_organization(world.org)
        .filter(object_id__in=[client.pk, contact.pk])
        .count()
        >= 30
    )
    assert many == few, (few, many)
    # session, user, memberships, the client, its contacts, the events, people named in changes
    assert few <= 8


def test_selector_pages_one_object_set_in_one_query(world, django_assert_num_queries):
    am = world.people["am"]
    client = services.client_create(actor=am, name="Sel", segment="biotech")
    for i in range(4):
        services.client_update(actor=am, client_id=client.pk, notes=str(i))
    with django_assert_num_queries(1):
        first, cursor = audit_events_for_objects(
            organization=world.org, objects=[("journey.client", client.pk)], limit=3
        )
        [e.actor_user for e in first]  # fetched with the page
    rest, end = audit_events_for_objects(
        organization=world.org, objects=[("journey.client", [client.pk])], before=cursor, limit=3
    )
    assert len(first) == 3 and len(rest) == 2 and end is None
    assert rest[-1].action == "create"
    assert audit_events_for_objects(organization=world.org, objects=[("journey.client", [])]) == (
        [],
        None,
    )


def test_the_pages_load_their_history_card(world, login, acme):
    client, _ = acme
    http = login(world.people["viewer"])
    html = page(http, reverse("client_detail", args=[client.pk]))
    assert 'data-testid="history"' in html
    assert any("Name: Acme Bio → Acme Biologics" in text for _, text in entries(html))
    html = page(http, reverse("project_detail", args=[world.running.pk]))
    assert 'data-testid="history"' in html
    assert any("Added milestone “GMP batch released”" in text for _, text in entries(html))


pytest_plugins = ["tests.web.browser"]  # the session's one Chromium: `browser`


def fits(card, width: int) -> bool:
    """The card and everything in it lie within the viewport's width (no sideways scroll)."""
    return card.evaluate(
        "(card, w) => [card, ...card.querySelectorAll('*')]"
        ".every(e => e.getBoundingClientRect().right <= w + 0.5)",
        width,
    )


@pytest.mark.browser
@pytest.mark.skipif(why_skipped() is not None, reason=f"BROWSER TESTS SKIPPED: {why_skipped()}")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_history_cards_in_chromium(browser, live_server, world, width):
    """Both pages load their History card (htmx, under the strict CSP), "Show older" appends
    the next entries in place; screenshots at desktop and phone widths."""
    am, admin = world.people["am"], world.people["admin"]
    client = services.client_create(actor=am, name="Helix Therapeutics", segment="biotech")
    contact = services.contact_create(
        actor=am, client=client.pk, name="Hana Helix", email="hana@helix.example"
    )
    services.contact_update(actor=admin, contact_id=contact.pk, title="VP, CMC", is_primary=True)
    for i in range(12):
        services.client_update(
            actor=admin if i % 2 else am,
            client_id=client.pk,
            notes=f"Quarterly review {i}: " + "a long note that the card truncates " * 4,
        )
    services.client_update(actor=am, client_id=client.pk, status="active", region="europe")
    project = world.assess
    services.project_transition(actor=am, project_id=project.pk, to="initiate")
    services.project_transition(actor=am, project_id=project.pk, to="plan")
    services.project_transition(
        actor=admin, project_id=project.pk, to="initiate", reason="The PO was not signed yet"
    )
    services.project_update(actor=am, project_id=project.pk, contract_value="125000.00")

    context = browser.new_context(
        viewport={"width": width, "height": 900}, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems = watch(tab)
    try:
        tab.goto("/accounts/login/")
        tab.fill("input[name=username]", "viewer@alpha.example")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(re.compile(r".*/$"))

        tab.goto(reverse("client_detail", args=[client.pk]))
        card = tab.get_by_test_id("history")
        card.wait_for()
        entries_ = card.locator("li.history-entry")
        assert entries_.count() == 10
        card.screenshot(path=str(SHOTS / f"history-client-card-first-page-{width}.png"))
        tab.get_by_test_id("history-older").click()
        expect(entries_).to_have_count(16)
        assert tab.get_by_test_id("history-older").count() == 0  # the end
        texts = entries_.all_inner_texts()
        assert "Created the client" in texts[-1] and "Changed contact “Hana Helix”" in texts[-3]
        assert fits(card, width)
        card.scroll_into_view_if_needed()
        tab.screenshot(path=str(SHOTS / f"history-client-{width}.png"), full_page=True)
        card.screenshot(path=str(SHOTS / f"history-client-card-{width}.png"))

        tab.goto(reverse("project_detail", args=[project.pk]))
        card = tab.get_by_test_id("history")
        card.wait_for()
        text = card.inner_text()
        assert "Corrected from Plan to Initiate" in text and "The PO was not signed yet" in text
        assert fits(card, width)
        tab.screenshot(path=str(SHOTS / f"history-project-{width}.png"), full_page=True)
        card.screenshot(path=str(SHOTS / f"history-project-card-{width}.png"))
    finally:
        context.close()
    check(tab, problems)
