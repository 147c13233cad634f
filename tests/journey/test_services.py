"""Services: validation with clear messages (nothing changed), defaults, audit before/after."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.errors import PermissionDeniedError
from accounts.models import AuditEvent
from journey.errors import JourneyError
from journey.models import (
    Client,
    Contact,
    Feedback,
    Milestone,
    PhaseTransition,
    Project,
    Touchpoint,
)
from journey.services import (
    client_create,
    client_delete,
    client_update,
    contact_create,
    contact_delete,
    contact_update,
    feedback_create,
    feedback_delete,
    feedback_update,
    milestone_complete,
    milestone_create,
    milestone_delete,
    milestone_update,
    project_delete,
    project_open,
    project_transition,
    project_update,
    touchpoint_create,
    touchpoint_delete,
    touchpoint_update,
)
from tests.factories import ClientFactory, ContactFactory, ProjectFactory
from tests.journey.helpers import project_in


def audits(org):
    return list(AuditEvent.objects.for_organization(org).order_by("id"))


def last_audit(org) -> AuditEvent:
    return AuditEvent.objects.for_organization(org).order_by("-id").first()


# --- clients --------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("big_pharma", "transactional"),
        ("mid_pharma", "transactional"),
        ("biotech", "consultative"),
        ("virtual_biotech", "consultative"),
        ("academic", "consultative"),
    ],
)
def test_service_model_defaults_from_segment(am, segment, expected):
    client = client_create(actor=am, name=f"C {segment}", segment=segment)
    assert client.service_model == expected
    overridden = client_create(
        actor=am, name=f"D {segment}", segment=segment, service_model="consultative"
    )
    assert overridden.service_model == "consultative"


@pytest.mark.django_db
def test_client_create_writes_audit_with_after_values(am):
    client = client_create(
        actor=am,
        name="  Helix Bio ",
        segment="biotech",
        modalities=["mrna", "adc", "mrna"],
        account_manager=am.user.email.upper(),
        region="europe",
        size_band="small",
    )
    assert client.name == "Helix Bio" and client.modalities == ["mrna", "adc"]
    assert client.account_manager == am.user and client.status == "prospect"
    event = last_audit(am.organization)
    assert (
        event.action,
        event.object_type,
        event.object_id,
        event.actor_user,
        event.actor_label,
    ) == (
        "create",
        "journey.client",
        client.pk,
        am.user,
        am.user.email,
    )
    assert event.changes["name"] == [None, "Helix Bio"]
    assert event.changes["segment"] == [None, "biotech"]
    assert event.changes["service_model"] == [None, "consultative"]
    assert event.changes["account_manager"] == [None, am.user.pk]
    assert event.changes["modalities"] == [None, ["mrna", "adc"]]


@pytest.mark.django_db
def test_client_update_audits_only_changed_fields(am):
    client = client_create(actor=am, name="Helix", segment="biotech")
    client_update(
        actor=am, client_id=client.pk, name="Helix Bio", segment="biotech", status="active"
    )
    event = last_audit(am.organization)
    assert event.action == "update"
    assert event.changes == {"name": ["Helix", "Helix Bio"], "status": ["prospect", "active"]}
    n = len(audits(am.organization))
    client_update(actor=am, client_id=client.pk, name="Helix Bio")  # no change, no event
    assert len(audits(am.organization)) == n


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"segment": "biotech"}, "name", "This field may not be blank."),
        ({"name": "   ", "segment": "biotech"}, "name", "This field may not be blank."),
        (
            {"name": "X"},
            "segment",
            "'None' is not a valid choice. Choose one of: big_pharma, mid_pharma, biotech, virtual_biotech, academic.",
        ),
        (
            {"name": "X", "segment": "pharma"},
            "segment",
            "'pharma' is not a valid choice. Choose one of: big_pharma, mid_pharma, biotech, virtual_biotech, academic.",
        ),
        (
            {"name": "X", "segment": "biotech", "modalities": ["crispr"]},
            "modalities",
            "Unknown modality 'crispr'. Choose from: small_molecule, peptide, biologic, adc, cell_therapy, gene_therapy, mrna, vaccine, other.",
        ),
        (
            {"name": "X", "segment": "biotech", "modalities": "adc"},
            "modalities",
            "Give a list of modalities.",
        ),
        (
            {"name": "X", "segment": "biotech", "status": "happy"},
            "status",
            "'happy' is not a valid choice. Choose one of: prospect, active, dormant, lost.",
        ),
        (
            {"name": "X", "segment": "biotech", "account_manager": "nobody@x.example"},
            "account_manager",
            "'nobody@x.example' is not a member of this organization.",
        ),
        ({"name": "X" * 201, "segment": "biotech"}, "name", "At most 200 characters."),
    ],
)
def test_client_create_refuses_bad_input_and_writes_nothing(am, data, field, message):
    with pytest.raises(Exception) as err:
        client_create(actor=am, **data)
    assert err.value.as_dict() == {field: [message]}
    assert Client.objects.for_organization(am.organization).count() == 0
    assert audits(am.organization) == []


@pytest.mark.django_db
def test_create_services_take_explicit_typed_keywords(am):
    """An unknown keyword is a programming error (the API's serializers and the forms pass
    only known fields); an update's unknown or read-only field is a domain error, since its
    fields arrive as data."""
    client = ClientFactory(organization=am.organization)
    with pytest.raises(TypeError):
        client_create(actor=am, name="X", segment="biotech", colour="red")
    with pytest.raises(TypeError):
        project_open(actor=am, name="X", code="X-1", modality="adc", client=client.pk, phase="plan")
    assert Client.objects.for_organization(am.organization).count() == 1
    assert Project.objects.for_organization(am.organization).count() == 0
    with pytest.raises(JourneyError) as err:
        client_update(actor=am, client_id=client.pk, colour="red")
    assert err.value.as_dict() == {"colour": ["Unknown or read-only field(s): colour."]}
    assert audits(am.organization) == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "executive", "project_manager"])
def test_client_writes_need_the_role(org, make_actor, role):
    actor = make_actor(org, role)
    with pytest.raises(PermissionDeniedError):
        client_create(actor=actor, name="X", segment="biotech")
    client = ClientFactory(organization=org)
    with pytest.raises(PermissionDeniedError):
        client_update(actor=actor, client_id=client.pk, name="Y")
    assert Client.objects.for_organization(org).get().name == client.name


@pytest.mark.django_db
def test_client_delete_is_admin_only_and_refused_while_it_has_projects(admin, am):
    project = ProjectFactory(client__organization=admin.organization)
    with pytest.raises(PermissionDeniedError):
        client_delete(actor=am, client_id=project.client_id)
    with pytest.raises(JourneyError, match="still has 1 related record"):
        client_delete(actor=admin, client_id=project.client_id)
    project_delete(actor=admin, project_id=project.pk, reason="Entered twice")
    client_delete(actor=admin, client_id=project.client_id)
    assert Client.objects.for_organization(admin.organization).count() == 0
    events = audits(admin.organization)
    assert [(e.action, e.object_type) for e in events[-2:]] == [
        ("delete", "journey.project"),
        ("delete", "journey.client"),
    ]
    assert events[-2].reason == "Entered twice"
    assert events[-1].changes["name"] == [project.client.name, None]


# --- contacts -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_one_primary_contact_per_client(am):
    client = ClientFactory(organization=am.organization)
    first = contact_create(
        actor=am, client=client.pk, name="Ann", email="ANN@Sponsor.example", is_primary=True
    )
    assert first.email == "ann@sponsor.example"
    second = contact_create(actor=am, client=client.pk, name="Bob", is_primary=True)
    contacts = {c.name: c.is_primary for c in Contact.objects.for_organization(am.organization)}
    assert contacts == {"Ann": False, "Bob": True}
    demotion = [
        e for e in audits(am.organization) if e.object_id == first.pk and e.action == "update"
    ]
    assert demotion[0].changes == {"is_primary": [True, False]}
    contact_update(actor=am, contact_id=first.pk, is_primary=True)
    contacts = {c.name: c.is_primary for c in Contact.objects.for_organization(am.organization)}
    assert contacts == {"Ann": True, "Bob": False}
    contact_delete(actor=am, contact_id=second.pk)
    assert last_audit(am.organization).action == "delete"


@pytest.mark.django_db
def test_contact_validation(am):
    client = ClientFactory(organization=am.organization)
    contact_create(actor=am, client=client.pk, name="Ann", email="ann@s.example")
    cases = [
        (
            {"client": client.pk, "name": "Bo", "email": "not-an-email"},
            {"email": ["'not-an-email' is not a valid e-mail address."]},
        ),
        (
            {"client": client.pk, "name": "Bo", "email": "ANN@s.example"},
            {"email": ["This client already has a contact with this e-mail."]},
        ),
        ({"name": "Bo"}, {"client": ["This field is required."]}),
        ({"client": "abc", "name": "Bo"}, {"client": ["'abc' is not a valid id."]}),
        (
            {"client": 999999, "name": "Bo"},
            {"client": ["No client with id 999999 in this organization."]},
        ),
        (
            {"client": client.pk, "name": "Bo", "is_primary": "yes"},
            {"is_primary": ["Must be true or false."]},
        ),
    ]
    for data, errors in cases:
        with pytest.raises(JourneyError) as err:
            contact_create(actor=am, **data)
        assert err.value.as_dict() == errors
    assert Contact.objects.for_organization(am.organization).count() == 1


# --- projects -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_project_open_starts_the_journal(am, pm):
    client = ClientFactory(organization=am.organization)
    opened = timezone.now() - dt.timedelta(days=30)
    project = project_open(
        actor=am,
        client=client.pk,
        name="Phase I supply",
        code="HX-001",
        modality="biologic",
        opened_at=opened,
        project_manager=pm.user.email,
        contract_value="1250000.50",
        currency="eur",
        service_type="clinical_manufacturing",
    )
    assert (project.phase, project.status, project.journal_seq) == ("assess", "active", 1)
    assert project.contract_value == Decimal("1250000.50") and project.currency == "EUR"
    [entry] = PhaseTransition.objects.for_organization(am.organization).filter(project=project)
    assert (entry.kind, entry.from_phase, entry.to_phase, entry.to_status, entry.at, entry.by) == (
        "opened",
        None,
        "assess",
        "active",
        opened,
        am.user,
    )
    event = last_audit(am.organization)
    assert event.action == "create" and event.changes["code"] == [None, "HX-001"]
    assert event.changes["contract_value"] == [None, "1250000.50"]


@pytest.mark.django_db
def test_project_open_defaults_opened_at_to_now(am):
    client = ClientFactory(organization=am.organization)
    before = timezone.now()
    project = project_open(actor=am, client=client.pk, name="X", code="X-1", modality="adc")
    assert before <= project.opened_at <= timezone.now()
    assert project.project_manager is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "X", "code": "X-1", "modality": "adc"}, {"client": ["This field is required."]}),
        (
            {"name": "X", "code": "", "modality": "adc", "client": "C"},
            {"code": ["This field may not be blank."]},
        ),
        (
            {"name": "X", "code": "X-1", "modality": "pill", "client": "C"},
            {
                "modality": [
                    "'pill' is not a valid choice. Choose one of: small_molecule, peptide, biologic, adc, cell_therapy, gene_therapy, mrna, vaccine, other."
                ]
            },
        ),
        (
            {"name": "X", "code": "X-1", "modality": "adc", "client": "C", "contract_value": "-5"},
            {"contract_value": ["Must be zero or a positive amount."]},
        ),
        (
            {"name": "X", "code": "X-1", "modality": "adc", "client": "C", "contract_value": "abc"},
            {"contract_value": ["'abc' is not a number."]},
        ),
        (
            {
                "name": "X",
                "code": "X-1",
                "modality": "adc",
                "client": "C",
                "contract_value": "1.234",
            },
            {"contract_value": ["At most two decimal places."]},
        ),
        (
            {"name": "X", "code": "X-1", "modality": "adc", "client": "C", "currency": "EURO"},
            {"currency": ["At most 3 characters."]},
        ),
        (
            {"name": "X", "code": "X-1", "modality": "adc", "client": "C", "currency": "E1"},
            {"currency": ["Use a three-letter ISO 4217 code such as USD or EUR."]},
        ),
        (
            {
                "name": "X",
                "code": "X-1",
                "modality": "adc",
                "client": "C",
                "opened_at": "2999-01-01T00:00:00Z",
            },
            {
                "opened_at": [
                    "2999-01-01 00:00 UTC is in the future; only past or present times are accepted."
                ]
            },
        ),
    ],
)
def test_project_open_refuses_bad_input_and_writes_nothing(am, data, errors):
    client = ClientFactory(organization=am.organization)
    if data.get("client") == "C":
        data = {**data, "client": client.pk}
    with pytest.raises(JourneyError) as err:
        project_open(actor=am, **data)
    assert err.value.as_dict() == errors
    assert Project.objects.for_organization(am.organization).count() == 0
    assert PhaseTransition.objects.for_organization(am.organization).count() == 0
    assert audits(am.organization) == []


@pytest.mark.django_db
def test_project_update_cannot_touch_the_journey(am):
    project = ProjectFactory(client__organization=am.organization)
    for field, value in (("phase", "plan"), ("status", "lost"), ("opened_at", timezone.now())):
        with pytest.raises(JourneyError) as err:
            project_update(actor=am, project_id=project.pk, **{field: value})
        assert err.value.field == field
    updated = project_update(actor=am, project_id=project.pk, name="Renamed", contract_value="10")
    assert updated.name == "Renamed"
    assert last_audit(am.organization).changes == {
        "name": [project.name, "Renamed"],
        "contract_value": [None, "10"],
    }


# --- milestones -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_milestone_lifecycle_is_audited(pm, days_ago):
    project = project_in(pm, "plan", project_manager=pm.user)
    m = milestone_create(
        actor=pm,
        project=project.pk,
        phase="plan",
        title="Batch record approved",
        due_date="2030-02-01",
    )
    assert last_audit(pm.organization).changes["due_date"] == [None, "2030-02-01"]
    done = days_ago(1)
    milestone_complete(actor=pm, milestone_id=m.pk, completed_at=done)
    assert last_audit(pm.organization).changes == {"completed_at": [None, done.isoformat()]}
    milestone_update(actor=pm, milestone_id=m.pk, completed_at=None)
    assert last_audit(pm.organization).changes == {"completed_at": [done.isoformat(), None]}
    milestone_delete(actor=pm, milestone_id=m.pk)
    assert last_audit(pm.organization).action == "delete"
    assert Milestone.objects.for_organization(pm.organization).count() == 0


@pytest.mark.django_db
def test_milestone_validation(am, days_ago):
    project = project_in(am, "plan", start_days_ago=10)
    opened = project.opened_at.date().isoformat()
    base = {"project": project.pk, "phase": "plan", "title": "T", "due_date": "2030-01-01"}
    cases = [
        (
            {**base, "due_date": "01/02/2030"},
            {"due_date": ["'01/02/2030' is not a date (YYYY-MM-DD)."]},
        ),
        (
            {**base, "due_date": "2000-01-01"},
            {"due_date": [f"The due date is before the project was opened ({opened})."]},
        ),
        (
            {**base, "phase": "launch"},
            {
                "phase": [
                    "'launch' is not a valid choice. Choose one of: assess, initiate, plan, execute, close_out."
                ]
            },
        ),
        ({**base, "completed_at": timezone.now() + dt.timedelta(hours=1)}, None),
        (
            {**base, "completed_at": days_ago(30)},
            {"completed_at": ["Completed before the project was opened."]},
        ),
        (
            {k: v for k, v in base.items() if k != "title"},
            {"title": ["This field may not be blank."]},
        ),
    ]
    for data, errors in cases:
        with pytest.raises(JourneyError) as err:
            milestone_create(actor=am, **data)
        if errors is not None:
            assert err.value.as_dict() == errors
        else:
            assert err.value.field == "completed_at" and "in the future" in err.value.message
    milestone_create(actor=am, **base)
    with pytest.raises(JourneyError) as err:
        milestone_create(actor=am, **{**base, "title": "t"})
    assert err.value.as_dict() == {
        "title": ["This project already has a milestone with this title in this phase."]
    }
    assert Milestone.objects.for_organization(am.organization).count() == 1


@pytest.mark.django_db
def test_pm_edits_milestones_only_on_own_projects(org, pm, make_actor):
    other = make_actor(org, "project_manager")
    theirs = project_in(pm, "plan", project_manager=other.user)
    with pytest.raises(PermissionDeniedError):
        milestone_create(
            actor=pm, project=theirs.pk, phase="plan", title="T", due_date="2030-01-01"
        )
    assert Milestone.objects.for_organization(org).count() == 0


# --- touchpoints ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_touchpoint_defaults_and_rules(am, days_ago):
    project = project_in(am, "execute")
    at = days_ago(2)
    tp = touchpoint_create(
        actor=am,
        client=project.client_id,
        project=project.pk,
        kind="site_visit",
        at=at,
        senior_leader_present=True,
        summary="Walked the suite",
    )
    assert tp.by == am.user and tp.senior_leader_present
    assert last_audit(am.organization).changes["kind"] == [None, "site_visit"]
    other_client = ClientFactory(organization=am.organization)
    with pytest.raises(JourneyError) as err:
        touchpoint_create(actor=am, client=other_client.pk, project=project.pk, kind="call", at=at)
    assert err.value.as_dict() == {
        "project": [f"Project {project.code} belongs to another client."]
    }
    with pytest.raises(JourneyError) as err:
        touchpoint_create(actor=am, client=other_client.pk, kind="fax", at=at)
    assert err.value.field == "kind"
    with pytest.raises(JourneyError) as err:
        touchpoint_create(
            actor=am, client=other_client.pk, kind="call", at=timezone.now() + dt.timedelta(days=1)
        )
    assert err.value.field == "at"
    touchpoint_update(actor=am, touchpoint_id=tp.pk, summary="Walked the suite and QC lab")
    assert last_audit(am.organization).changes == {
        "summary": ["Walked the suite", "Walked the suite and QC lab"]
    }
    touchpoint_delete(actor=am, touchpoint_id=tp.pk)
    assert Touchpoint.objects.for_organization(am.organization).count() == 0


@pytest.mark.django_db
def test_pm_logs_touchpoints_only_on_own_projects(org, pm, make_actor, days_ago):
    own = project_in(pm, "plan", project_manager=pm.user)
    touchpoint_create(actor=pm, client=own.client_id, project=own.pk, kind="call", at=days_ago(1))
    with pytest.raises(PermissionDeniedError):
        touchpoint_create(actor=pm, client=own.client_id, kind="call", at=days_ago(1))
    assert Touchpoint.objects.for_organization(org).count() == 1


# --- feedback -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_feedback_recorded_scores(am, days_ago):
    project = project_in(am, "plan", start_days_ago=100)  # initiate entered 99 days ago, plan 98
    fb = feedback_create(
        actor=am,
        project=project.pk,
        kind="nps",
        score=9,
        phase="initiate",
        responded_at=days_ago(50),
        comment="Great",
    )
    assert fb.score == 9 and fb.requested_at is None
    assert last_audit(am.organization).changes["score"] == [None, 9]
    feedback_update(actor=am, feedback_id=fb.pk, score=10)
    assert last_audit(am.organization).changes == {"score": [9, 10]}
    cases = [
        (
            {"kind": "csat", "score": 6, "phase": "assess", "responded_at": days_ago(1)},
            {"score": ["A CSAT score runs from 1 to 5."]},
        ),
        (
            {"kind": "csat", "score": 0, "phase": "assess", "responded_at": days_ago(1)},
            {"score": ["A CSAT score runs from 1 to 5."]},
        ),
        (
            {"kind": "nps", "score": 11, "phase": "assess", "responded_at": days_ago(1)},
            {"score": ["A NPS score runs from 0 to 10."]},
        ),
        (
            {"kind": "nps", "score": "ten", "phase": "assess", "responded_at": days_ago(1)},
            {"score": ["'ten' is not a whole number."]},
        ),
        (
            {"kind": "nps", "score": True, "phase": "assess", "responded_at": days_ago(1)},
            {"score": ["Give a whole number."]},
        ),
        (
            {"kind": "csat", "score": 4, "phase": "assess"},
            {"responded_at": ["This field is required."]},
        ),
        (
            {"kind": "csat", "score": 4, "phase": "execute", "responded_at": days_ago(1)},
            {
                "phase": [
                    f"The project had not entered execute by {days_ago(1).date().isoformat()}."
                ]
            },
        ),
        (
            {"kind": "csat", "score": 4, "phase": "plan", "responded_at": days_ago(99)},
            {"phase": [f"The project had not entered plan by {days_ago(99).date().isoformat()}."]},
        ),
        (
            {"kind": "csat", "score": 4, "phase": "assess", "responded_at": days_ago(200)},
            {"responded_at": ["The response is before the project was opened."]},
        ),
        (
            {"kind": "ces", "score": 4, "phase": "assess", "responded_at": days_ago(1)},
            {"kind": ["'ces' is not a valid choice. Choose one of: csat, nps."]},
        ),
        (
            {"kind": "csat", "phase": "assess"},
            {
                "contact": [
                    "A feedback request needs the contact to ask (or record a score with responded_at)."
                ]
            },
        ),
    ]
    for data, errors in cases:
        with pytest.raises(JourneyError) as err:
            feedback_create(actor=am, project=project.pk, **data)
        assert err.value.as_dict() == errors, data
    assert Feedback.objects.for_organization(am.organization).count() == 1


@pytest.mark.django_db
def test_feedback_request_to_a_contact(am, admin):
    project = project_in(am, "initiate")
    contact = ContactFactory(client=project.client, organization=am.organization)
    stranger = ContactFactory(
        organization=am.organization, client=ClientFactory(organization=am.organization)
    )
    request = feedback_create(
        actor=am, project=project.pk, kind="csat", phase="initiate", contact=contact.pk
    )
    assert (
        request.score is None and request.responded_at is None and request.requested_at is not None
    )
    with pytest.raises(JourneyError) as err:
        feedback_create(
            actor=am, project=project.pk, kind="csat", phase="initiate", contact=stranger.pk
        )
    assert err.value.as_dict() == {"contact": ["This contact works for another client."]}
    with pytest.raises(PermissionDeniedError):
        feedback_delete(actor=am, feedback_id=request.pk)
    feedback_delete(actor=admin, feedback_id=request.pk)
    assert Feedback.objects.for_organization(am.organization).count() == 0


@pytest.mark.django_db
def test_transition_audit_carries_actor_and_times(am, days_ago):
    project = project_in(am, "assess", start_days_ago=10)
    at = days_ago(5)
    project_transition(actor=am, project_id=project.pk, to="initiate", at=at, note="Signed")
    event = last_audit(am.organization)
    assert (event.action, event.actor_user, event.object_type) == (
        "transition",
        am.user,
        "journey.project",
    )
    assert event.changes == {
        "at": [None, at.isoformat()],
        "kind": [None, "won"],
        "phase": ["assess", "initiate"],
    }


@pytest.mark.django_db
def test_every_delete_journals_the_row_as_it_was(admin, days_ago):
    project = project_in(admin, "plan")
    contact = contact_create(
        actor=admin, client=project.client_id, name="Ann", email="ann@s.example"
    )
    milestone = milestone_create(
        actor=admin, project=project.pk, phase="plan", title="T", due_date="2030-01-01"
    )
    touchpoint = touchpoint_create(
        actor=admin, client=project.client_id, kind="call", at=days_ago(1), summary="Hi"
    )
    feedback = feedback_create(
        actor=admin,
        project=project.pk,
        kind="csat",
        score=5,
        phase="plan",
        responded_at=days_ago(1),
    )
    cases = [
        (contact_delete, {"contact_id": contact.pk}, "journey.contact", contact.pk, "name", "Ann"),
        (
            milestone_delete,
            {"milestone_id": milestone.pk},
            "journey.milestone",
            milestone.pk,
            "title",
            "T",
        ),
        (
            touchpoint_delete,
            {"touchpoint_id": touchpoint.pk},
            "journey.touchpoint",
            touchpoint.pk,
            "summary",
            "Hi",
        ),
        (
            feedback_delete,
            {"feedback_id": feedback.pk},
            "journey.feedback",
            feedback.pk,
            "score",
            5,
        ),
        (
            project_delete,
            {"project_id": project.pk},
            "journey.project",
            project.pk,
            "code",
            project.code,
        ),
        (
            client_delete,
            {"client_id": project.client_id},
            "journey.client",
            project.client_id,
            "name",
            project.client.name,
        ),
    ]
    for service, kwargs, object_type, pk, field, value in cases:
        service(actor=admin, **kwargs)
        event = last_audit(admin.organization)
        assert (event.action, event.object_type, event.object_id) == ("delete", object_type, pk)
        assert event.changes[field] == [value, None]
        assert event.actor_user == admin.user


@pytest.mark.django_db
def test_an_account_managers_new_client_is_theirs_unless_they_name_another(am, admin, make_actor):
    mine = client_create(actor=am, name="Own Bio", segment="biotech")
    assert mine.account_manager == am.user
    nobody = client_create(actor=am, name="Unowned Bio", segment="biotech", account_manager="")
    assert nobody.account_manager is None
    other = make_actor(am.organization, "account_manager")
    theirs = client_create(
        actor=am, name="Their Bio", segment="biotech", account_manager=other.user.email
    )
    assert theirs.account_manager == other.user
    # An admin's new client is not silently the admin's.
    assert client_create(actor=admin, name="Admin Bio", segment="biotech").account_manager is None


@pytest.mark.django_db
def test_a_viewer_cannot_be_made_project_manager(am, viewer, days_ago):
    from journey.models import Project
    from journey.services import project_open, project_update
    from tests.factories import ClientFactory

    client = ClientFactory(organization=am.organization)
    with pytest.raises(JourneyError) as err:
        project_open(
            actor=am, client=client.pk, name="X", code="X-1", modality="adc",
            project_manager=viewer.user.email,
        )  # fmt: skip
    assert err.value.field == "project_manager" and "read-only" in err.value.message
    assert not Project.objects.for_organization(am.organization).exists()
    project = project_open(actor=am, client=client.pk, name="X", code="X-1", modality="adc")
    with pytest.raises(JourneyError):
        project_update(actor=am, project_id=project.pk, project_manager=viewer.user.email)
    project.refresh_from_db()
    assert project.project_manager is None
