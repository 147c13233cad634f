"""Browser views: every page per role, another organization's ids are 404s, a viewer sees no
edit control and a forged POST is a 403 that changes nothing, forms show the services'
refusals inline, filters, pagination, empty states, htmx partials."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from journey.models import Client, Contact, Milestone, Project, Touchpoint
from metrics.models import MetricRun
from tests.factories import ClientFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

ROLES = ["admin", "exec", "am", "pm", "viewer"]


def page_urls(w) -> dict[str, str]:
    return {
        "home": reverse("home"),
        "clients": reverse("clients"),
        "client": reverse("client_detail", args=[w.pharma.pk]),
        "projects": reverse("projects"),
        "my_projects": reverse("my_projects"),
        "board": reverse("board"),
        "board_mine": reverse("board") + "?mine=1",
        "project": reverse("project_detail", args=[w.running.pk]),
        "dashboard": reverse("dashboard"),
    }


def edit_urls(w) -> dict[str, str]:
    return {
        "client_create": reverse("client_create"),
        "client_edit": reverse("client_edit", args=[w.pharma.pk]),
        "contact_create": reverse("contact_create", args=[w.pharma.pk]),
        "contact_edit": reverse("contact_edit", args=[w.contact.pk]),
        "project_create": reverse("project_create"),
        "project_edit": reverse("project_edit", args=[w.running.pk]),
    }


def object_urls(w) -> list[tuple[str, str]]:
    """(method, url) of everything that names an object of the organization."""
    return [
        ("get", reverse("client_detail", args=[w.pharma.pk])),
        ("get", reverse("client_edit", args=[w.pharma.pk])),
        ("post", reverse("client_edit", args=[w.pharma.pk])),
        ("get", reverse("contact_create", args=[w.pharma.pk])),
        ("post", reverse("touchpoint_log", args=[w.pharma.pk])),
        ("get", reverse("contact_edit", args=[w.contact.pk])),
        ("post", reverse("contact_edit", args=[w.contact.pk])),
        ("get", reverse("project_detail", args=[w.running.pk])),
        ("get", reverse("project_edit", args=[w.running.pk])),
        ("post", reverse("project_transition", args=[w.assess.pk])),
        ("post", reverse("milestone_add", args=[w.running.pk])),
        ("post", reverse("milestone_complete", args=[w.milestone.pk])),
    ]


# --- every page, every role -----------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(world, login, role):
    http = login(world.people[role])
    for name, url in page_urls(world).items():
        response = http.get(url)
        assert response.status_code == 200, (name, response.status_code)
        assert b"Alpha CDMO" in response.content
        assert "HX-Request" in response["Vary"], name


@pytest.mark.parametrize("role", ["admin", "am"])
def test_edit_pages_render_for_roles_that_edit(world, login, role):
    http = login(world.people[role])
    for name, url in edit_urls(world).items():
        response = http.get(url)
        assert response.status_code == 200, name
        assert b'name="csrfmiddlewaretoken"' in response.content, name


@pytest.mark.parametrize(
    ("role", "landing"),
    [("exec", "/dashboard/"), ("pm", "/projects/mine/"), ("am", "/"), ("viewer", "/")],
)
def test_each_role_lands_on_its_page_after_login(world, client, role, landing):
    email = world.people[role].user.email
    response = client.post(
        reverse("accounts:login"), {"username": email, "password": "pw-for-tests-1"}
    )
    assert response.status_code == 302 and response.url == landing
    response = client.post(
        reverse("accounts:login") + "?next=/board/",
        {"username": email, "password": "pw-for-tests-1", "next": "/board/"},
    )
    assert response.url == "/board/"


def test_pages_need_login(world, client):
    for url in [*page_urls(world).values(), *edit_urls(world).values()]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url


def test_overview_shows_overdue_milestones(world, login):
    html = login(world.people["am"]).get(reverse("home")).content.decode()
    assert 'data-testid="overdue"' in html and "GMP batch released" in html
    html = login(world.people["pm2"]).get(reverse("home")).content.decode()
    assert "GMP batch released" not in html  # a PM sees the overdue milestones of their projects


def test_navigation_follows_the_role(world, login):
    def nav(role):
        html = login(world.people[role]).get(reverse("home")).content.decode()
        return [
            k
            for k in ("dashboard", "home", "clients", "projects", "board", "mine")
            if f'data-nav="{k}"' in html
        ]

    assert nav("exec")[0] == "dashboard"
    assert "mine" in nav("pm") and "mine" not in nav("am") and "mine" not in nav("viewer")
    html = login(world.people["pm"]).get(reverse("home")).content.decode()
    assert (
        html.index('data-nav="mine"')
        < html.index('data-nav="board"')
        < html.index('data-nav="home"')
    )


# --- another organization: 404, never 403, nothing changes ----------------------------------
@pytest.mark.parametrize("role", ["admin", "am", "viewer"])
def test_another_organizations_objects_are_404(world, elsewhere, login, role):
    http = login(world.people[role])
    before = AuditEvent.objects.unscoped_dangerously().count()
    for method, url in object_urls(elsewhere):
        response = getattr(http, method)(url, {"to": "initiate", "name": "X", "title": "X"})
        assert response.status_code == 404, (method, url, response.status_code)
        if method == "get":
            assert b"There is nothing at this address in your organization." in response.content
    assert AuditEvent.objects.unscoped_dangerously().count() == before
    missing = 2**62
    for url in (
        reverse("client_detail", args=[missing]),
        reverse("project_detail", args=[missing]),
        reverse("metrics_run", args=[missing]),
    ):
        assert http.get(url).status_code == 404


def test_another_organizations_metric_run_is_404(world, elsewhere, login):
    run = MetricRun.objects.create(organization=elsewhere.org, trigger="request")
    assert login(world.people["exec"]).get(reverse("metrics_run", args=[run.pk])).status_code == 404


def test_switching_organization_shows_the_other_ones_pages(world, elsewhere, login):
    user = world.people["am"].user
    MembershipFactory(user=user, organization=elsewhere.org, role="viewer")
    http = login(world.people["am"])
    assert http.get(reverse("project_detail", args=[elsewhere.running.pk])).status_code == 404
    page = http.get(reverse("home")).content.decode()
    assert 'id="org-switch"' in page and "Beta CDMO" in page
    http.post(reverse("accounts:switch_organization"), {"organization": "beta"})
    assert http.get(reverse("project_detail", args=[elsewhere.running.pk])).status_code == 200
    assert http.get(reverse("project_detail", args=[world.running.pk])).status_code == 404
    # Now a viewer there: no edit controls.
    assert b"New client" not in http.get(reverse("clients")).content


# --- viewer: no edit controls, forged POSTs are 403 and change nothing -----------------------
EDIT_MARKERS = [
    'data-testid="new-client"',
    'data-testid="edit-client"',
    'data-testid="touchpoint-form"',
    'data-testid="transition-form"',
    'data-testid="milestone-form"',
    'data-testid="recompute"',
    "Add contact",
    ">Open project<",
    ">Edit project<",
    ">Complete<",
]


def test_viewer_sees_no_edit_controls(world, login):
    http = login(world.people["viewer"])
    for name, url in page_urls(world).items():
        html = http.get(url).content.decode()
        for marker in EDIT_MARKERS:
            assert marker not in html, (name, marker)
    for name, url in edit_urls(world).items():
        assert http.get(url).status_code == 403, name


def test_viewer_forged_posts_are_403_and_change_nothing(world, login):
    http = login(world.people["viewer"])
    before = AuditEvent.objects.for_organization(world.org).count()
    now = timezone.now().strftime("%Y-%m-%dT%H:%M")
    forged = [
        (reverse("client_create"), {"name": "Forged", "segment": "biotech", "status": "active"}),
        (
            reverse("client_edit", args=[world.pharma.pk]),
            {"name": "Forged", "segment": "biotech", "status": "active"},
        ),
        (reverse("contact_create", args=[world.pharma.pk]), {"name": "Forged"}),
        (reverse("contact_edit", args=[world.contact.pk]), {"name": "Forged"}),
        (reverse("touchpoint_log", args=[world.pharma.pk]), {"kind": "call", "at": now}),
        (
            reverse("project_create"),
            {
                "name": "F",
                "code": "F-1",
                "client": world.pharma.pk,
                "modality": "adc",
                "currency": "USD",
            },
        ),
        (
            reverse("project_edit", args=[world.running.pk]),
            {
                "name": "F",
                "code": "F-1",
                "client": world.pharma.pk,
                "modality": "adc",
                "currency": "USD",
            },
        ),
        (reverse("project_transition", args=[world.assess.pk]), {"to": "initiate"}),
        (
            reverse("milestone_add", args=[world.running.pk]),
            {"title": "F", "phase": "plan", "due_date": "2026-01-01"},
        ),
        (reverse("milestone_complete", args=[world.milestone.pk]), {}),
        (reverse("metrics_recompute"), {}),
    ]
    for url, data in forged:
        response = http.post(url, data)
        assert response.status_code == 403, (url, response.status_code)
        response = http.post(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 403, url
    assert AuditEvent.objects.for_organization(world.org).count() == before
    assert not MetricRun.objects.for_organization(world.org).exists()
    world.assess.refresh_from_db()
    assert world.assess.phase == "assess"


def test_pm_moves_only_projects_they_manage(world, login):
    http = login(world.people["pm"])
    own = http.get(reverse("project_detail", args=[world.assess.pk])).content.decode()
    assert 'data-testid="transition-form"' in own and 'data-move="initiate"' in own
    other = http.get(reverse("project_detail", args=[world.other_pm_project.pk])).content.decode()
    assert (
        'data-testid="transition-form"' not in other and 'data-testid="milestone-form"' not in other
    )
    response = http.post(
        reverse("project_transition", args=[world.other_pm_project.pk]), {"to": "initiate"}
    )
    assert response.status_code == 403
    assert b"Project managers can only change projects they manage." in response.content
    world.other_pm_project.refresh_from_db()
    assert world.other_pm_project.phase == "assess"


def test_csrf_is_enforced(world):
    from django.test import Client as HttpClient

    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(world.people["am"].user)
    response = http.post(reverse("project_transition", args=[world.assess.pk]), {"to": "initiate"})
    assert response.status_code == 403
    world.assess.refresh_from_db()
    assert world.assess.phase == "assess"
    page = http.get(reverse("project_detail", args=[world.assess.pk])).content.decode()
    assert "csrfmiddlewaretoken" in page and "X-CSRFToken" in page


# --- project page: transitions, milestones --------------------------------------------------
def test_transition_won_then_skip_is_refused_inline(world, login):
    http = login(world.people["pm"])
    url = reverse("project_transition", args=[world.assess.pk])
    page = http.get(reverse("project_detail", args=[world.assess.pk])).content.decode()
    # Only the allowed moves are offered: won, lost, hold, cancel; no skip.
    assert 'data-move="initiate"' in page and 'data-move="lost"' in page
    assert 'data-move="plan"' not in page and 'data-move="execute"' not in page
    response = http.post(
        url,
        {"to": "initiate", "note": "Contract signed"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="journey",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "the project is now in initiate" in html and "<html" not in html
    assert "Won: moved to initiate" in html and "Contract signed" in html
    assert 'data-move="plan"' in html
    # The milestones card is swapped out of band: its form now defaults to the new phase.
    assert 'id="milestones" hx-swap-oob="true"' in html
    assert '<option value="initiate" selected>' in html
    world.assess.refresh_from_db()
    assert (world.assess.phase, world.assess.status) == ("initiate", "active")

    response = http.post(url, {"to": "execute"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="journey")
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "Projects move one phase at a time: from initiate the next phase is plan. "
        "Only an admin can move past a phase, giving a reason." in html
    )
    world.assess.refresh_from_db()
    assert world.assess.phase == "initiate"


def test_transition_back_dated_before_the_previous_move_is_refused(world, login):
    http = login(world.people["am"])
    earlier = (world.assess.opened_at - dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = http.post(
        reverse("project_transition", args=[world.assess.pk]),
        {"to": "initiate", "at": earlier},
        HTTP_HX_REQUEST="true",
    )
    assert "moves are recorded in order" in response.content.decode()
    future = (timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = http.post(
        reverse("project_transition", args=[world.assess.pk]), {"to": "initiate", "at": future}
    )
    assert response.status_code == 200 and "is in the future" in response.content.decode()
    world.assess.refresh_from_db()
    assert world.assess.phase == "assess"
    # A back-dated move inside the allowed window is recorded at that time.
    when = timezone.now() - dt.timedelta(days=2)
    response = http.post(
        reverse("project_transition", args=[world.assess.pk]),
        {"to": "initiate", "at": when.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    last = world.assess.transitions.order_by("-seq").first()
    assert last.kind == "won" and last.at == when.replace(second=0, microsecond=0)


def test_admin_corrects_the_journey_with_a_reason(world, login):
    http = login(world.people["admin"])
    page = http.get(reverse("project_detail", args=[world.assess.pk])).content.decode()
    assert "Correct the journey" in page
    url = reverse("project_transition", args=[world.assess.pk])
    html = http.post(url, {"to": "plan"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Moving past a phase corrects the journey; give a reason." in html
    http.post(url, {"to": "plan", "reason": "Imported late"}, HTTP_HX_REQUEST="true")
    world.assess.refresh_from_db()
    assert world.assess.phase == "plan"


def test_milestones_add_complete_and_overdue(world, login):
    http = login(world.people["pm"])
    page = http.get(reverse("project_detail", args=[world.running.pk])).content.decode()
    assert "is-overdue" in page and "overdue</span>" in page
    url = reverse("milestone_add", args=[world.running.pk])
    html = http.post(
        url, {"title": "", "phase": "execute", "due_date": "2020-01-01"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "This field is required." in html
    html = http.post(
        url,
        {"title": "Too early", "phase": "execute", "due_date": "2000-01-01"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "The due date is before the project was opened" in html
    html = http.post(
        url,
        {"title": "PPQ report", "phase": "execute", "due_date": timezone.now().date().isoformat()},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "PPQ report" in html
    response = http.post(
        reverse("milestone_complete", args=[world.milestone.pk]), HTTP_HX_REQUEST="true"
    )
    assert "late</span>" in response.content.decode()
    world.milestone.refresh_from_db()
    assert world.milestone.completed_at is not None
    assert Milestone.objects.for_organization(world.org).filter(title="PPQ report").exists()


# --- clients, contacts, touchpoints ---------------------------------------------------------
def test_am_creates_and_edits_a_client(world, login):
    http = login(world.people["am"])
    page = http.get(reverse("client_create")).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    response = http.post(
        reverse("client_create"),
        {
            "name": "Nova Bio",
            "segment": "biotech",
            "modalities": ["mrna", "peptide"],
            "account_manager": "am@alpha.example",
            "status": "prospect",
        },
    )
    assert response.status_code == 302
    nova = Client.objects.for_organization(world.org).get(name="Nova Bio")
    assert nova.service_model == "consultative" and nova.modalities == ["mrna", "peptide"]
    assert nova.account_manager == world.people["am"].user
    # The service's refusal shows on its field.
    response = http.post(
        reverse("client_create"), {"name": "nova bio", "segment": "biotech", "status": "active"}
    )
    assert response.status_code == 200
    assert "A client with this name already exists." in response.content.decode()
    response = http.post(
        reverse("client_edit", args=[nova.pk]),
        {
            "name": "Nova Bio",
            "segment": "big_pharma",
            "service_model": "transactional",
            "status": "active",
        },
    )
    assert response.status_code == 302
    nova.refresh_from_db()
    assert (nova.segment, nova.service_model, nova.status) == (
        "big_pharma",
        "transactional",
        "active",
    )


def test_am_opens_and_edits_a_project(world, login):
    http = login(world.people["am"])
    page = http.get(reverse("project_create") + f"?client={world.bio.pk}").content.decode()
    assert f'<option value="{world.bio.pk}" selected>' in page
    data = {
        "name": "Vector scale-up",
        "code": "BIO-002",
        "client": world.bio.pk,
        "modality": "gene_therapy",
        "project_manager": "pm@alpha.example",
        "contract_value": "125000.50",
        "currency": "eur",
        "opened_at": "2026-01-05T09:00",
    }
    response = http.post(reverse("project_create"), data)
    assert response.status_code == 302
    project = Project.objects.for_organization(world.org).get(code="BIO-002")
    assert (project.phase, project.status, project.currency) == ("assess", "active", "EUR")
    assert project.opened_at == dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert project.project_manager == world.people["pm"].user
    assert project.transitions.get().kind == "opened"
    response = http.post(reverse("project_create"), {**data, "code": "bio-002"})
    assert "A project with this code already exists." in response.content.decode()
    response = http.post(
        reverse("project_edit", args=[project.pk]), {**data, "name": "Vector PPQ", "opened_at": ""}
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.name == "Vector PPQ"


def test_contacts_create_and_edit(world, login):
    http = login(world.people["am"])
    response = http.post(
        reverse("contact_create", args=[world.pharma.pk]),
        {"name": "Neil New", "email": "neil@bigco.example", "is_primary": "on"},
    )
    assert response.status_code == 302
    contacts = Contact.objects.for_organization(world.org).filter(client=world.pharma)
    assert contacts.get(is_primary=True).name == "Neil New"
    response = http.post(
        reverse("contact_edit", args=[world.contact.pk]),
        {"name": "Paula Primary", "email": "neil@bigco.example"},
    )
    assert "This client already has a contact with this e-mail." in response.content.decode()


def test_touchpoint_logged_inline_with_htmx(world, login):
    http = login(world.people["am"])
    url = reverse("touchpoint_log", args=[world.pharma.pk])
    now = timezone.now()
    html = http.post(
        url,
        {"kind": "call", "at": (now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="activity",
    ).content.decode()
    assert "is in the future; only past or present times are accepted." in html
    assert "<html" not in html
    html = http.post(
        url,
        {
            "kind": "site_visit",
            "at": now.strftime("%Y-%m-%dT%H:%M"),
            "project": world.running.pk,
            "summary": "Toured the suite",
            "senior_leader_present": "on",
        },
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="activity",
    ).content.decode()
    assert "Touchpoint logged." in html and "Toured the suite" in html
    tp = Touchpoint.objects.for_organization(world.org).get(summary="Toured the suite")
    assert tp.by == world.people["am"].user and tp.project_id == world.running.pk
    assert tp.senior_leader_present


def test_refusals_without_htmx_re_render_the_whole_page(world, login):
    http = login(world.people["am"])
    future = (timezone.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = http.post(
        reverse("touchpoint_log", args=[world.pharma.pk]), {"kind": "call", "at": future}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and "is in the future" in html
    assert "Paula Primary" in html and 'data-testid="edit-client"' in html
    response = http.post(reverse("project_transition", args=[world.running.pk]), {"to": "assess"})
    html = response.content.decode()
    assert (
        "<html" in html
        and "Only an admin can move back" in html
        and "Quarterly business review" in html
    )


def test_client_page_timeline_mixes_touchpoints_moves_and_feedback(world, login):
    html = (
        login(world.people["viewer"])
        .get(reverse("client_detail", args=[world.pharma.pk]))
        .content.decode()
    )
    for text in (
        "Quarterly business review",
        "Won: moved to initiate",
        "CSAT 4 at plan",
        "Paula Primary",
        "Small molecule",
    ):
        assert text in html, text


# --- lists: filters, search, pagination, empty states ---------------------------------------
def test_client_list_filters_and_search(world, login):
    http = login(world.people["am"])

    def names(query):
        html = http.get(reverse("clients") + query).content.decode()
        return [n for n in ("Bigco Pharma", "Tiny Bio") if n in html]

    assert names("") == ["Bigco Pharma", "Tiny Bio"]
    assert names("?segment=biotech") == ["Tiny Bio"]
    assert names("?service_model=transactional") == ["Bigco Pharma"]
    assert names("?modality=adc") == ["Bigco Pharma"]
    assert names("?modality=cell_therapy") == ["Tiny Bio"]
    assert names("?search=tiny") == ["Tiny Bio"]
    assert names("?status=dormant") == []
    assert names("?account_manager=am%40alpha.example") == ["Bigco Pharma", "Tiny Bio"]
    assert "?account_manager=am%40alpha.example" in http.get(reverse("clients")).content.decode()
    partial = http.get(
        reverse("clients") + "?segment=biotech", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    assert b"<html" not in partial.content and b"Tiny Bio" in partial.content


def test_project_list_filters_and_my_projects(world, login):
    http = login(world.people["pm"])

    def codes(url):
        html = http.get(url).content.decode()
        return sorted(c for c in ("BIG-001", "BIG-002", "BIO-001") if c in html)

    assert codes(reverse("projects")) == ["BIG-001", "BIG-002", "BIO-001"]
    assert codes(reverse("projects") + "?phase=execute") == ["BIG-002"]
    assert codes(reverse("projects") + "?segment=biotech") == ["BIO-001"]
    assert codes(reverse("projects") + "?project_manager=pm2%40alpha.example") == ["BIO-001"]
    assert codes(reverse("projects") + "?search=batch") == ["BIG-002"]
    assert codes(reverse("my_projects")) == ["BIG-001", "BIG-002"]
    assert codes(reverse("board") + "?mine=1") == ["BIG-001", "BIG-002"]
    assert codes(reverse("board")) == ["BIG-001", "BIG-002", "BIO-001"]


def test_long_lists_are_paginated(world, login):
    for i in range(30):
        ClientFactory(organization=world.org, name=f"Zeta {i:02d}")
    http = login(world.people["am"])
    first = http.get(reverse("clients")).content.decode()
    assert (
        "1\u201325 of 32" in first
        and "Page 1 of 2" in first
        and "Zeta 22" in first
        and "Zeta 23" not in first
    )
    second = http.get(reverse("clients") + "?page=2").content.decode()
    assert "26\u201332 of 32" in second and "Zeta 29" in second
    assert "Zeta 29" in http.get(reverse("clients") + "?page=99").content.decode()


def test_a_new_organization_sees_what_to_do_first(db, login):
    org = OrganizationFactory(slug="fresh", name="Fresh CDMO")
    from accounts.permissions import Actor

    admin = Actor.from_membership(MembershipFactory(organization=org, role="admin"))
    viewer = Actor.from_membership(MembershipFactory(organization=org, role="viewer"))
    http = login(admin)
    home = http.get(reverse("home")).content.decode()
    assert "Add your first client" in home and 'data-testid="empty-state"' in home
    for url in (
        reverse("clients"),
        reverse("projects"),
        reverse("my_projects"),
        reverse("dashboard"),
    ):
        assert 'data-testid="empty-state"' in http.get(url).content.decode(), url
    assert "No figures yet" in http.get(reverse("dashboard")).content.decode()
    html = login(viewer).get(reverse("home")).content.decode()
    assert "Add your first client</a>" not in html and "an account manager or admin adds" in html
    assert Project.objects.for_organization(org).count() == 0


def test_board_counts_each_project_once_whatever_its_milestones(world, login):
    """A project with several milestones is one card and counts once in its column."""
    big2 = Project.objects.for_organization(world.org).get(code="BIG-002")
    for i in range(3):
        Milestone.objects.create(
            organization=world.org,
            project=big2,
            phase=big2.phase,
            title=f"Batch {i}",
            due_date=timezone.now().date() - dt.timedelta(days=i + 1),
        )
    http = login(world.people["pm"])
    for url in (reverse("board"), reverse("board") + "?mine=1"):
        columns = {c["phase"]: c for c in http.get(url).context["columns"]}
        expected = {
            phase: Project.objects.for_organization(world.org)
            .filter(phase=phase, status__in=["active", "on_hold"])
            .filter(**({"project_manager": world.people["pm"].user} if "mine" in url else {}))
            .count()
            for phase in columns
        }
        assert {p: c["count"] for p, c in columns.items()} == expected
        assert columns[big2.phase]["count"] >= 1
        assert all(c["hidden"] == 0 for c in columns.values())
