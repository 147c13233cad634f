"""CSV import (SPEC Part 2): every problem with its row and column and nothing written; clean
files written through the services (journal, audit); Excel's files; the command; the round
trip of an organization through its exported files."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuditEvent, Membership, OutboxMessage, Role
from accounts.permissions import Actor
from journey.imports.export import export_organization
from journey.imports.kinds import KINDS, template_csv_rows
from journey.imports.services import csv_import_apply, csv_import_check
from journey.models import (
    Client,
    Contact,
    Feedback,
    Milestone,
    PhaseTransition,
    Project,
    Touchpoint,
)
from tests.factories import ClientFactory, ContactFactory, MembershipFactory, ProjectFactory

MODELS = (Client, Contact, Project, PhaseTransition, Milestone, Touchpoint, Feedback)


def csv_bytes(text: str) -> bytes:
    return text.strip("\n").replace("\n", "\r\n").encode()


def counts(org) -> dict[str, int]:
    out = {m.__name__: m.objects.for_organization(org).count() for m in MODELS}
    out["audit"] = AuditEvent.objects.filter(organization=org).count()
    out["outbox"] = OutboxMessage.objects.for_organization(org).count()
    return out


@pytest.fixture
def world(org, other_org, make_actor):
    """An organization with a client, a project opened 100 days ago (in assess), a member per
    role; another organization with its own client."""
    admin = make_actor(org, Role.ADMIN, user__email="admin@alpha.example")
    am = make_actor(org, Role.ACCOUNT_MANAGER, user__email="am@alpha.example")
    pm = make_actor(org, Role.PROJECT_MANAGER, user__email="pm@alpha.example")
    viewer = make_actor(org, Role.VIEWER, user__email="viewer@alpha.example")
    now = timezone.now()
    acme = ClientFactory(organization=org, name="Acme Bio", account_manager=am.user)
    ContactFactory(client=acme, name="Dana Lee", email="dana@acme.example", is_primary=True)
    project = ProjectFactory(
        client=acme,
        code="ACME-001",
        project_manager=pm.user,
        opened_at=now - dt.timedelta(days=100),
    )
    foreign = ClientFactory(organization=other_org, name="Foreign Pharma")
    return type(
        "World",
        (),
        {
            "org": org,
            "admin": admin,
            "am": am,
            "pm": pm,
            "viewer": viewer,
            "acme": acme,
            "project": project,
            "foreign": foreign,
            "system": Actor.system(org, label="import_csv"),
        },
    )


def _found(result) -> set[tuple[int, str]]:
    return {(p.row, p.column) for p in result.problems}


def test_every_fault_is_reported_with_its_row_and_column_and_nothing_is_written(world):
    """More than twenty different faults over the seven kinds: each is reported at its row
    and column by the check and by the write, and not a row, audit event or outbox row is
    written by either."""
    future = (timezone.now() + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ago = lambda days: (timezone.now() - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    far = (timezone.now().date() + dt.timedelta(days=365 * 11)).isoformat()
    files = {
        "clients": (
            """
name,segment,modalities,account_manager,colour
Good Bio,biotech,biologic,am@alpha.example,
Bad Segment,unicorn,biologic,,
Unknown AM,biotech,,nobody@alpha.example,
Good Bio,biotech,,,
Acme Bio,biotech,,,
Odd Modality,biotech,biologic; teleportation,,
""",
            {
                (1, "colour"),  # an unknown column
                (3, "segment"),  # an unknown segment
                (4, "account_manager"),  # an unknown account manager e-mail
                (5, "name"),  # a duplicate within the file
                (6, "name"),  # a duplicate of a client in the database
                (7, "modalities"),  # an unknown modality
            },
        ),
        "contacts": (
            f"""
client,client_id,name,email,is_primary
Acme Bio,,Ok Person,ok@acme.example,false
Acme Bio,,Bad Mail,not-an-email,false
,{world.foreign.pk},Foreign,f@foreign.example,false
Nobody Inc,,Lost,lost@nobody.example,false
Acme Bio,,Maybe,maybe@acme.example,perhaps
Acme Bio,,Ok Again,OK@acme.example,false
""",
            {
                (3, "email"),  # a malformed contact e-mail
                (4, "client_id"),  # a client of another organization, by id
                (5, "client"),  # an unknown client name
                (6, "is_primary"),  # not a yes/no
                (7, "email"),  # the same contact twice in the file
            },
        ),
        "projects": (
            f"""
client,name,code,modality,project_manager,contract_value,currency,opened_at
Acme Bio,New one,NEW-001,biologic,pm@alpha.example,1000,USD,2023-01-10
Acme Bio,Unknown PM,NEW-002,biologic,ghost@alpha.example,,USD,2023-01-10
Acme Bio,Dup in file,NEW-001,biologic,,,USD,2023-01-10
Acme Bio,Dup in db,ACME-001,biologic,,,USD,2023-01-10
Acme Bio,Bad date,NEW-003,biologic,,,USD,2023-13-45
Acme Bio,Too early,NEW-004,biologic,,,USD,1985-06-01
Acme Bio,In future,NEW-005,biologic,,,USD,{future}
Acme Bio,Bad money,NEW-006,biologic,,-5,US,2023-01-10
""",
            {
                (3, "project_manager"),  # an unknown PM e-mail
                (4, "code"),  # a duplicate code within the file
                (5, "code"),  # a duplicate code in the database
                (6, "opened_at"),  # a bad date
                (7, "opened_at"),  # a date before 1990
                (8, "opened_at"),  # in the future
                (9, "contract_value"),  # a negative amount
                (9, "currency"),  # not a currency code
            },
        ),
        "transitions": (
            f"""
project,to,at,note
ACME-001,plan,{ago(90)},skips initiate
ACME-001,initiate,{ago(200)},before the project opened
NOPE-404,initiate,{ago(50)},unknown project
ACME-001,finished,{ago(50)},
ACME-001,initiate,{ago(50)},won
ACME-001,lost,{ago(40)},only an assessment is lost
""",
            {
                (2, "to"),  # a move that skips a phase
                (3, "at"),  # a move before the project opened
                (4, "project"),  # an unknown project
                (5, "to"),  # not a move
                (7, "to"),  # lost after won
            },
        ),
        "milestones": (
            f"""
project,phase,title,due_date,completed_at
ACME-001,plan,Far away,{far},
ACME-001,plan,Ancient,1985-01-01,
ACME-001,plan,Done before opening,{ago(10)[:10]},{ago(150)}
""",
            {
                (2, "due_date"),  # more than ten years ahead
                (3, "due_date"),  # before 1990
                (4, "completed_at"),  # completed before the project opened
            },
        ),
        "touchpoints": (
            f"""
client,project,at,summary
Acme Bio,ACME-001,{ago(3)},no kind column
""",
            {(1, "kind")},  # a missing required column
        ),
        "feedback": (
            f"""
project,phase,kind,score,responded_at,contact
ACME-001,assess,csat,7,{ago(5)},
ACME-001,execute,csat,4,{ago(5)},
ACME-001,assess,nps,9,{ago(5)},stranger@acme.example
ACME-001,assess,csat,5,yesterday,
""",
            {
                (2, "score"),  # a CSAT score out of range
                (3, "phase"),  # a phase the project had not entered
                (4, "contact"),  # not a contact of the project's client
                (5, "responded_at"),  # a bad date-time
            },
        ),
    }
    before = counts(world.org)
    total = set()
    for kind, (text, expected) in files.items():
        checked = csv_import_check(actor=world.am, kind=kind, data=csv_bytes(text))
        assert _found(checked) == expected, (kind, [str(p) for p in checked.problems])
        applied = csv_import_apply(actor=world.am, kind=kind, data=csv_bytes(text))
        assert _found(applied) == expected and applied.written == 0
        total |= {(kind, *key) for key in expected}
        assert counts(world.org) == before, kind
    assert len(total) >= 20
    # The messages say what is wrong, in the user's words.
    skipped = csv_import_check(
        actor=world.am, kind="transitions", data=csv_bytes(files["transitions"][0])
    )
    text = "\n".join(str(p) for p in skipped.problems)
    assert "row 2, column to: Projects move one phase at a time" in text
    assert "row 3, column at:" in text and "is before the previous move" in text
    assert "row 4, column project: No project with code 'NOPE-404' in this organization." in text


def test_the_system_actor_gets_the_admin_rules_a_skip_needs_a_reason(world):
    text = f"project,to,at\nACME-001,plan,{(timezone.now() - dt.timedelta(days=5)).isoformat()}\n"
    result = csv_import_check(actor=world.system, kind="transitions", data=text.encode())
    assert [str(p) for p in result.problems] == [
        "row 2, column reason: Moving past a phase corrects the journey; give a reason."
    ]


def test_a_project_manager_or_viewer_may_not_import(world):
    from accounts.errors import PermissionDeniedError

    for actor in (world.pm, world.viewer):
        with pytest.raises(PermissionDeniedError):
            csv_import_check(actor=actor, kind="clients", data=b"name,segment\nX,biotech\n")


def test_each_kind_imports_a_clean_file_through_the_services(world):
    org, am = world.org, world.am
    ago = lambda days: (timezone.now() - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    files = [
        (
            "clients",
            'name,segment,modalities,account_manager,status\nNova Bio,virtual_biotech,"mrna, vaccine",am@alpha.example,active\nBigCo,big_pharma,,,\n',
        ),
        (
            "contacts",
            "client,name,email,is_primary\nNova Bio,Ned,ned@nova.example,true\nNova Bio,Nia,nia@nova.example,false\n",
        ),
        (
            "projects",
            f"client,name,code,modality,project_manager,contract_value,currency,opened_at\nNova Bio,mRNA scale-up,NOVA-1,mrna,pm@alpha.example,2500000.50,EUR,{ago(300)}\n",
        ),
        (
            "transitions",
            f"project,to,at,note\nNOVA-1,initiate,{ago(250)},Won\nNOVA-1,plan,{ago(200)},\nNOVA-1,on_hold,{ago(190)},Waiting\nNOVA-1,active,{ago(180)},\nNOVA-1,execute,{ago(100)},\n",
        ),
        (
            "milestones",
            f"project,phase,title,due_date,completed_at\nNOVA-1,execute,Batch 1,{ago(20)[:10]},{ago(25)}\nNOVA-1,execute,Batch 2,{(timezone.now() + dt.timedelta(days=60)).date()},\n",
        ),
        (
            "touchpoints",
            f"client,project,kind,at,by,senior_leader_present,summary\nNova Bio,NOVA-1,meeting,{ago(30)},am@alpha.example,yes,QBR\nBigCo,,call,{ago(2)},,no,\n",
        ),
        (
            "feedback",
            f"project,phase,kind,score,responded_at,contact,comment\nNOVA-1,plan,csat,5,{ago(150)},ned@nova.example,Great\nNOVA-1,execute,nps,6,{ago(10)},,Late\n",
        ),
    ]
    for kind, text in files:
        result = csv_import_apply(actor=am, kind=kind, data=text.encode())
        assert result.problems == [], (kind, [str(p) for p in result.problems])
        assert result.written == result.row_count
    nova = Client.objects.for_organization(org).get(name="Nova Bio")
    assert nova.modalities == ["mrna", "vaccine"] and nova.service_model == "consultative"
    assert nova.account_manager == am.user and nova.status == "active"
    assert Contact.objects.for_organization(org).get(email="ned@nova.example").is_primary
    project = Project.objects.for_organization(org).get(code="NOVA-1")
    assert project.phase == "execute" and project.status == "active"
    assert project.contract_value == Decimal("2500000.50") and project.currency == "EUR"
    journal = list(
        PhaseTransition.objects.for_organization(org).filter(project=project).order_by("seq")
    )
    assert [t.kind for t in journal] == [
        "opened",
        "won",
        "advanced",
        "on_hold",
        "resumed",
        "advanced",
    ]
    assert all(t.by == am.user for t in journal)
    assert Milestone.objects.for_organization(org).filter(project=project).count() == 2
    touch = Touchpoint.objects.for_organization(org).get(summary="QBR")
    assert touch.senior_leader_present and touch.project == project and touch.by == am.user
    assert Touchpoint.objects.for_organization(org).get(kind="call").by == am.user  # the default
    feedback = Feedback.objects.for_organization(org).get(kind="csat", project=project)
    assert feedback.score == 5 and feedback.contact.email == "ned@nova.example"
    # Audited as if typed: one event per row (and the opening, which is the project's own).
    audit = AuditEvent.objects.filter(organization=org, actor_user=am.user)
    assert audit.filter(object_type="journey.client", action="create").count() == 2
    assert audit.filter(object_type="journey.project", action="create").count() == 1
    assert audit.filter(object_type="journey.project", action="transition").count() == 5
    assert audit.filter(object_type="journey.feedback", action="create").count() == 2
    # The low NPS closes the loop as it would if typed: an alert for the account manager.
    from engagement.models import Alert

    assert Alert.objects.for_organization(org).filter(kind="low_score").count() == 1


def test_excel_style_file_bom_semicolons_quoted_newlines(world):
    text = (
        "\ufeffname;segment;notes;modalities\r\n"
        '"Semi; Colon Bio";biotech;"first line\r\nsecond line";"biologic, adc"\r\n'
        "\r\n"
        "Plain Bio;academic;;\r\n"
    )
    result = csv_import_apply(actor=world.am, kind="clients", data=text.encode("utf-8"))
    assert result.problems == [] and result.written == 2
    client = Client.objects.for_organization(world.org).get(name="Semi; Colon Bio")
    assert client.notes == "first line\r\nsecond line" and client.modalities == ["biologic", "adc"]
    # The blank line keeps its number: a problem on the next row is row 4.
    bad = text.replace("Plain Bio;academic", "Plain Bio;nonsense").replace("Semi; Colon", "Other")
    assert [
        str(p)[:22]
        for p in csv_import_check(actor=world.am, kind="clients", data=bad.encode()).problems
    ] == ["row 4, column segment:"]


def test_unreadable_files_are_one_clear_problem(world):
    for data, message in (
        (b"", "The file is empty."),
        ("name,segment\nCaf\xe9,biotech\n".encode("latin-1"), "not UTF-8"),
        (b"name,segment\n", "no rows"),
    ):
        result = csv_import_check(actor=world.am, kind="clients", data=data)
        assert len(result.problems) == 1 and message in str(result.problems[0])


def test_templates_import_cleanly_with_their_example_row(make_actor):
    """The downloadable template of each kind is a working file (its example row refers to
    the examples of the kinds before it)."""
    from tests.factories import OrganizationFactory

    org = OrganizationFactory(slug="fresh")
    admin = make_actor(org, Role.ADMIN)
    MembershipFactory(organization=org, role=Role.ACCOUNT_MANAGER, user__email="am@cdmo.example")
    MembershipFactory(organization=org, role=Role.PROJECT_MANAGER, user__email="pm@cdmo.example")
    for kind in KINDS.values():
        rows = template_csv_rows(kind)
        out = io.StringIO()
        import csv

        csv.writer(out).writerows(rows)
        result = csv_import_apply(actor=admin, kind=kind.name, data=out.getvalue().encode())
        assert result.problems == [], (kind.name, [str(p) for p in result.problems])


# --- the command -----------------------------------------------------------------------------
def test_command_dry_run_writes_nothing_and_exit_codes(world, tmp_path, capsys):
    good = tmp_path / "clients.csv"
    good.write_text("name,segment\nCmd Bio,biotech\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,segment\nCmd Bad,unicorn\n")
    before = counts(world.org)
    call_command("import_csv", "--org", "alpha", "--kind", "clients", str(good), "--dry-run")
    assert "no problem" in capsys.readouterr().out
    assert counts(world.org) == before
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_csv", "--org", "alpha", "--kind", "clients", str(bad))
    assert exit_info.value.code == 1
    assert "row 2, column segment:" in capsys.readouterr().out
    assert counts(world.org) == before
    call_command("import_csv", "--org", "alpha", "--kind", "clients", str(good))
    assert "1 clients rows written" in capsys.readouterr().out
    client = Client.objects.for_organization(world.org).get(name="Cmd Bio")
    event = AuditEvent.objects.get(
        organization=world.org, object_type="journey.client", object_id=client.pk
    )
    assert event.actor_label == "import_csv" and event.actor_user is None


def test_command_unknown_organization_or_file_is_an_error(world, tmp_path):
    from django.core.management.base import CommandError

    (tmp_path / "x.csv").write_text("name,segment\n")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_csv", "--org", "alpha", "--kind", "clients", str(tmp_path / "y.csv"))
    with pytest.raises(CommandError, match="No organization with slug 'nope'"):
        call_command("import_csv", "--org", "nope", "--kind", "clients", str(tmp_path / "x.csv"))


# --- the round trip ---------------------------------------------------------------------------
def _metric_rows(org):
    from metrics.models import MetricResult

    return sorted(
        (r.key, r.dimension, r.dimension_value, r.period, r.value, r.numerator, r.denominator, r.n)
        for r in MetricResult.objects.for_organization(org)
    )


@pytest.mark.slow
@pytest.mark.django_db
def test_round_trip_an_organization_through_its_exported_files(settings):
    """The demo organization exported to the import format and imported into a fresh one:
    the same clients, projects, journal (phases, kinds, dates) and, recomputed, the same
    metrics, row for row."""
    from accounts.services import organization_create
    from journey.demo import demo_seed
    from metrics.recompute import metrics_recompute

    settings.METRICS_AUTO_RECOMPUTE = False  # recomputed once below, on both sides
    now = timezone.now()
    demo = demo_seed(slug="rt-source", today=now.date() - dt.timedelta(days=1)).organization
    target, _, _ = organization_create(
        slug="rt-target", name="Target", admin_email="admin@rt-source.example"
    )
    for m in Membership.objects.filter(organization=demo).select_related("user"):
        Membership.objects.get_or_create(
            organization=target, user=m.user, defaults={"role": m.role}
        )
    files = export_organization(organization=demo)
    actor = Actor.system(target, label="round-trip")
    for kind in (
        "clients",
        "contacts",
        "projects",
        "transitions",
        "milestones",
        "touchpoints",
        "feedback",
    ):
        result = csv_import_apply(actor=actor, kind=kind, data=files[kind])
        assert result.problems == [], (kind, [str(p) for p in result.problems[:5]])

    def clients(org):
        return sorted(
            (
                c.name,
                c.segment,
                c.size_band,
                tuple(c.modalities),
                c.service_model,
                c.account_manager_id,
                c.region,
                c.status,
                c.notes,
            )
            for c in Client.objects.for_organization(org)
        )

    def projects(org):
        return sorted(
            (
                p.code,
                p.client.name,
                p.name,
                p.modality,
                p.service_type,
                p.project_manager_id,
                p.executive_sponsor_id,
                p.contract_value,
                p.currency,
                p.opened_at,
                p.phase,
                p.status,
                p.phase_entered_at,
            )
            for p in Project.objects.for_organization(org).select_related("client")
        )

    def journal(org):
        return sorted(
            (
                t.project.code,
                t.seq,
                t.kind,
                t.from_phase,
                t.to_phase,
                t.from_status,
                t.to_status,
                t.at,
                t.reason,
            )
            for t in PhaseTransition.objects.for_organization(org).select_related("project")
        )

    def others(org):
        return (
            sorted(
                (m.project.code, m.phase, m.title, m.due_date, m.completed_at)
                for m in Milestone.objects.for_organization(org).select_related("project")
            ),
            sorted(
                (t.client.name, t.kind, t.at, t.by_id, t.senior_leader_present, t.summary)
                for t in Touchpoint.objects.for_organization(org).select_related("client")
            ),
            sorted(
                (f.project.code, f.phase, f.kind, f.score, f.responded_at, f.comment)
                for f in Feedback.objects.for_organization(org)
                .filter(score__isnull=False)
                .select_related("project")
            ),
            sorted(
                (c.client.name, c.name, c.email, c.is_primary)
                for c in Contact.objects.for_organization(org).select_related("client")
            ),
        )

    assert len(clients(demo)) > 10 and len(journal(demo)) > 100
    assert clients(target) == clients(demo)
    assert projects(target) == projects(demo)
    assert journal(target) == journal(demo)
    assert others(target) == others(demo)
    metrics_recompute(organization=demo, now=now)
    metrics_recompute(organization=target, now=now)
    source_rows = _metric_rows(demo)
    assert len(source_rows) > 100
    assert _metric_rows(target) == source_rows
