"""A small organization for the browser app's tests: one member per role, clients, projects in
several phases with milestones, touchpoints and feedback, and another organization beside it."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import Actor
from accounts.services import organization_setup
from journey import services
from journey.models import (
    Client,
    Feedback,
    Milestone,
    Phase,
    PhaseTransition,
    Project,
    ProjectStatus,
    Touchpoint,
    TransitionKind,
)
from tests.factories import (
    ClientFactory,
    ContactFactory,
    MembershipFactory,
    OrganizationFactory,
    ProjectFactory,
)

PASSWORD = "pw-for-tests-1"  # the factories' password


def build_world(slug: str = "alpha", name: str = "Alpha CDMO") -> SimpleNamespace:
    org = OrganizationFactory(slug=slug, name=name)
    organization_setup(organization=org)  # what creating the organization does (playbooks)
    people = {}
    for role, email, full_name in [
        (Role.ADMIN, f"admin@{slug}.example", "Ada Admin"),
        (Role.EXECUTIVE, f"exec@{slug}.example", "Eve Exec"),
        (Role.ACCOUNT_MANAGER, f"am@{slug}.example", "Amy Account"),
        (Role.PROJECT_MANAGER, f"pm@{slug}.example", "Pat Project"),
        (Role.PROJECT_MANAGER, f"pm2@{slug}.example", "Quinn Project"),
        (Role.VIEWER, f"viewer@{slug}.example", "Val Viewer"),
    ]:
        membership = MembershipFactory(
            organization=org, role=role, user__email=email, user__full_name=full_name
        )
        people[email.split("@")[0]] = Actor.from_membership(membership)
    system = Actor.system(org, label="tests")
    now = timezone.now()
    pharma = ClientFactory(
        organization=org,
        name="Bigco Pharma",
        segment="big_pharma",
        modalities=["small_molecule", "adc"],
        account_manager=people["am"].user,
        status="active",
    )
    bio = ClientFactory(
        organization=org,
        name="Tiny Bio",
        segment="biotech",
        modalities=["cell_therapy"],
        account_manager=people["am"].user,
        status="active",
    )
    ContactFactory(client=pharma, name="Paula Primary", is_primary=True)
    assess = ProjectFactory(
        client=pharma,
        name="Assess me",
        code="BIG-001",
        project_manager=people["pm"].user,
        opened_at=now - dt.timedelta(days=60),
    )
    running = ProjectFactory(
        client=pharma,
        name="Running batch",
        code="BIG-002",
        project_manager=people["pm"].user,
        opened_at=now - dt.timedelta(days=300),
    )
    for days, to in ((250, "initiate"), (200, "plan"), (150, "execute")):
        services.project_transition(
            actor=system, project_id=running.pk, to=to, at=now - dt.timedelta(days=days)
        )
    other_pm = ProjectFactory(
        client=bio,
        name="Someone else's",
        code="BIO-001",
        project_manager=people["pm2"].user,
        opened_at=now - dt.timedelta(days=90),
    )
    services.milestone_create(
        actor=system,
        project=running.pk,
        title="GMP batch released",
        phase="execute",
        due_date=(now - dt.timedelta(days=10)).date(),  # overdue
    )
    services.touchpoint_create(
        actor=system,
        client=pharma.pk,
        project=running.pk,
        kind="meeting",
        at=now - dt.timedelta(days=5),
        summary="Quarterly business review",
        senior_leader_present=True,
    )
    services.feedback_create(
        actor=system,
        project=running.pk,
        kind="csat",
        score=4,
        phase="plan",
        responded_at=now - dt.timedelta(days=160),
    )
    return SimpleNamespace(
        org=org,
        people=people,
        pharma=pharma,
        bio=bio,
        assess=Project.objects.for_organization(org).get(pk=assess.pk),
        running=Project.objects.for_organization(org).get(pk=running.pk),
        other_pm_project=Project.objects.for_organization(org).get(pk=other_pm.pk),
        milestone=Milestone.objects.for_organization(org).get(project=running),
        contact=pharma.contacts.get(),
    )


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def elsewhere(db):
    """Another organization with the same shape: its ids must answer 404 in `world`."""
    return build_world(slug="beta", name="Beta CDMO")


@pytest.fixture
def login(client):
    def _login(actor: Actor):
        client.force_login(actor.user)
        return client

    return _login


def grow(world: SimpleNamespace, total_projects: int) -> None:
    """Add clients and projects (journal, milestones, touchpoints, feedback) in bulk until the
    organization has `total_projects`: the data size of the query-count tests."""
    org = world.org
    have = Project.objects.for_organization(org).count()
    now = timezone.now()
    pms = [world.people["pm"].user, world.people["pm2"].user]
    clients = list(Client.objects.for_organization(org))
    start = Client.objects.for_organization(org).count()
    new_clients = Client.objects.bulk_create(
        [
            Client(
                organization=org,
                name=f"Grown Client {start + i}",
                segment=["big_pharma", "biotech", "academic"][i % 3],
                service_model="transactional" if i % 3 == 0 else "consultative",
                modalities=["biologic"],
                account_manager=world.people["am"].user,
                status="active",
            )
            for i in range(max(0, (total_projects - have) // 4))
        ]
    )
    clients += new_clients
    projects = []
    for i in range(have, total_projects):
        projects.append(
            Project(
                organization=org,
                client=world.pharma if i % 5 == 0 else clients[i % len(clients)],
                name=f"Grown {i}",
                code=f"GRW-{i:04d}",
                modality="biologic",
                project_manager=pms[i % 2],
                opened_at=now - dt.timedelta(days=200 - i % 150),
                phase=Phase.INITIATE if i % 2 else Phase.ASSESS,
                status=ProjectStatus.ACTIVE,
                journal_seq=2 if i % 2 else 1,
            )
        )
    projects = Project.objects.bulk_create(projects)
    transitions, milestones, touchpoints, feedback = [], [], [], []
    for p in projects:
        transitions.append(
            PhaseTransition(
                organization=org,
                project=p,
                seq=1,
                kind=TransitionKind.OPENED,
                from_phase=None,
                to_phase=Phase.ASSESS,
                to_status=ProjectStatus.ACTIVE,
                at=p.opened_at,
            )
        )
        if p.phase == Phase.INITIATE:
            transitions.append(
                PhaseTransition(
                    organization=org,
                    project=p,
                    seq=2,
                    kind=TransitionKind.WON,
                    from_phase=Phase.ASSESS,
                    to_phase=Phase.INITIATE,
                    from_status=ProjectStatus.ACTIVE,
                    to_status=ProjectStatus.ACTIVE,
                    at=p.opened_at + dt.timedelta(days=20),
                    by=world.people["am"].user,
                )
            )
        milestones.append(
            Milestone(
                organization=org,
                project=p,
                phase=p.phase,
                title=f"Milestone of {p.code}",
                due_date=(p.opened_at + dt.timedelta(days=30)).date(),
                completed_at=p.opened_at + dt.timedelta(days=25) if p.pk % 3 else None,
            )
        )
        touchpoints.append(
            Touchpoint(
                organization=org,
                client=p.client,
                project=p,
                kind="call",
                at=p.opened_at + dt.timedelta(days=2),
                by=world.people["am"].user,
                summary=f"About {p.code}",
            )
        )
        feedback.append(
            Feedback(
                organization=org,
                project=p,
                phase=Phase.ASSESS,
                kind="csat",
                score=3 + p.pk % 3,
                responded_at=p.opened_at + dt.timedelta(days=10),
            )
        )
    PhaseTransition.objects.bulk_create(transitions)
    Milestone.objects.bulk_create(milestones)
    Touchpoint.objects.bulk_create(touchpoints)
    Feedback.objects.bulk_create(feedback)


def add_engagement(world: SimpleNamespace, *, alerts: int = 3, surveys: int = 2) -> SimpleNamespace:
    """Engagement data for `world`: open alerts for the account manager (a low score first),
    one snoozed and one resolved, survey requests on the running project (sent, one
    answered), and today's health snapshot."""
    from engagement.models import Alert
    from engagement.services.health import health_snapshot_take
    from engagement.services.surveys import survey_send
    from journey.services import feedback_create

    org, am, now = world.org, world.people["am"], timezone.now()
    have = Alert.objects.for_organization(org).count()
    rows = [
        Alert(
            organization=org,
            kind="low_score" if i == 0 else "cadence",
            cause_key=f"test:{have + i}",
            assignee=am.user,
            client=world.pharma,
            project=world.running,
            title="CSAT 2/5 from Paula Primary on BIG-002" if i == 0 else f"Quiet client {i}",
            message="Kick-off was chaotic." if i == 0 else "",
            raised_at=now - dt.timedelta(hours=i + 1),
        )
        for i in range(alerts)
    ]
    rows.append(
        Alert(
            organization=org,
            kind="stuck",
            cause_key=f"test:snoozed:{have}",
            assignee=am.user,
            client=world.bio,
            title="Snoozed one",
            raised_at=now - dt.timedelta(days=3),
            snoozed_until=(now + dt.timedelta(days=5)).date(),
        )
    )
    rows.append(
        Alert(
            organization=org,
            kind="milestone_overdue",
            cause_key=f"test:resolved:{have}",
            assignee=am.user,
            client=world.pharma,
            title="Resolved one",
            raised_at=now - dt.timedelta(days=9),
            resolved_at=now - dt.timedelta(days=1),
            resolved_by=am.user,
            resolution_note="Called them.",
        )
    )
    Alert.objects.bulk_create(rows)
    contact = world.contact
    for i in range(surveys):
        feedback = feedback_create(
            actor=am, project=world.running.pk, contact=contact.pk, kind="csat", phase="execute"
        )
        survey_send(organization=org, feedback_id=feedback.pk, deliver=False)
        sent = Feedback.objects.for_organization(org).filter(pk=feedback.pk)
        if i == 0:
            sent.update(score=4, responded_at=now, comment="Smooth so far")
        elif i == 1:
            sent.update(reminder_sent_at=now)
    health_snapshot_take(organization=org)
    return world


# Panels another app renders are fetched by htmx once the page is up (`partials/_lazy.html`).
LAZY_PANEL = re.compile(
    r'(<div [^>]*hx-get="(?P<url>[^"]+)"[^>]*hx-trigger="load[^"]*"[^>]*>)'
    r'(?:<section class="card"><p class="muted small">Loading[^<]*</p></section>)?</div>'
)


def with_panels(http, html: str) -> str:
    """The page as the browser shows it after htmx loaded its panels (each an HX GET)."""

    def fetch(match: re.Match) -> str:
        response = http.get(match["url"], HTTP_HX_REQUEST="true")
        assert response.status_code == 200, (match["url"], response.status_code)
        return match[1] + response.content.decode() + "</div>"

    return LAZY_PANEL.sub(fetch, html)


def page(http, url: str) -> str:
    response = http.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return with_panels(http, response.content.decode())
