"""The tenancy rule: nothing reads or writes across organizations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from accounts.errors import DomainError
from accounts.models import AuditEvent
from accounts.tenancy import UnscopedQueryError
from journey import selectors
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
from tests.factories import (
    ClientFactory,
    ContactFactory,
    FeedbackFactory,
    MilestoneFactory,
    ProjectFactory,
    TouchpointFactory,
)

TENANT_MODELS = [
    Client,
    Contact,
    Project,
    PhaseTransition,
    Milestone,
    Touchpoint,
    Feedback,
    AuditEvent,
]


@pytest.mark.django_db
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_unscoped_queries_refuse_to_run(model, org):
    with pytest.raises(UnscopedQueryError):
        list(model.objects.all())
    with pytest.raises(UnscopedQueryError):
        model.objects.count()
    with pytest.raises(UnscopedQueryError):
        model.objects.filter(pk=1).exists()
    with pytest.raises(UnscopedQueryError):
        model.objects.filter(pk=1).first()
    with pytest.raises(UnscopedQueryError):
        model.objects.filter(pk=1).update(created_at=None) if hasattr(
            model, "updated_at"
        ) else model.objects.filter(pk=1).delete()
    with pytest.raises(UnscopedQueryError):
        model.objects.filter(pk=1).delete()
    # OR-ing a scoped query with an unscoped one is unscoped again.
    with pytest.raises(UnscopedQueryError):
        list(model.objects.filter(organization=org) | model.objects.filter(pk=1))
    assert list(model.objects.for_organization(org)) == []
    assert model.objects.unscoped_dangerously().count() >= 0


@pytest.mark.django_db
def test_related_access_from_a_scoped_object_works(org):
    project = ProjectFactory(client__organization=org)
    client = Client.objects.for_organization(org).get(pk=project.client_id)
    assert list(client.projects.all()) == [project]
    assert [t.kind for t in project.transitions.all()] == ["opened"]
    fetched = list(Client.objects.for_organization(org).prefetch_related("projects"))
    assert fetched[0].projects.all()[0].pk == project.pk


@pytest.mark.django_db
def test_for_organization_requires_one():
    with pytest.raises(UnscopedQueryError):
        Client.objects.for_organization(None)


@pytest.mark.django_db
def test_names_and_codes_are_unique_per_organization_only(admin, other_admin):
    a = client_create(actor=admin, name="Acme Bio", segment="biotech")
    b = client_create(actor=other_admin, name="Acme Bio", segment="biotech")
    project_open(actor=admin, client=a.pk, name="X", code="P-1", modality="adc")
    project_open(actor=other_admin, client=b.pk, name="X", code="P-1", modality="adc")
    with pytest.raises(JourneyError) as err:
        client_create(actor=admin, name="ACME BIO", segment="biotech")
    assert err.value.as_dict() == {"name": ["A client with this name already exists."]}
    with pytest.raises(JourneyError) as err:
        project_open(actor=admin, client=a.pk, name="Y", code="p-1", modality="adc")
    assert err.value.as_dict() == {"code": ["A project with this code already exists."]}


@pytest.fixture
def theirs(other_org):
    """One of each object in another organization."""
    project = ProjectFactory(client__organization=other_org)
    contact = ContactFactory(client=project.client, organization=other_org, is_primary=True)
    return {
        "client": project.client,
        "project": project,
        "contact": contact,
        "milestone": MilestoneFactory(project=project, organization=other_org),
        "touchpoint": TouchpointFactory(
            client=project.client, organization=other_org, project=project
        ),
        "feedback": FeedbackFactory(project=project, organization=other_org),
    }


def _world(other_org) -> tuple:
    """A fingerprint of everything in the other organization."""
    rows = []
    for model in TENANT_MODELS:
        rows.append(
            sorted(
                (o.pk, str(o.updated_at) if hasattr(o, "updated_at") else "")
                for o in model.objects.for_organization(other_org)
            )
        )
    return tuple(map(tuple, rows))


ID_SERVICES = [
    ("client", client_update, {"name": "Renamed"}),
    ("client", client_delete, {}),
    ("contact", contact_update, {"name": "Renamed"}),
    ("contact", contact_delete, {}),
    ("project", project_update, {"name": "Renamed"}),
    ("project", project_delete, {}),
    ("project", project_transition, {"to": "initiate"}),
    ("milestone", milestone_update, {"title": "Renamed"}),
    ("milestone", milestone_complete, {}),
    ("milestone", milestone_delete, {}),
    ("touchpoint", touchpoint_update, {"summary": "Renamed"}),
    ("touchpoint", touchpoint_delete, {}),
    ("feedback", feedback_update, {"comment": "Renamed"}),
    ("feedback", feedback_delete, {}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "service", "kwargs"), ID_SERVICES, ids=[s.__name__ for _, s, _ in ID_SERVICES]
)
def test_services_answer_another_organizations_object_as_missing(
    admin, other_org, theirs, kind, service, kwargs
):
    before = _world(other_org)
    with pytest.raises(Http404):
        service(actor=admin, **{f"{kind}_id": theirs[kind].pk}, **kwargs)
    assert _world(other_org) == before


SELECTORS = [
    ("client", selectors.client_get),
    ("contact", selectors.contact_get),
    ("project", selectors.project_get),
    ("project", selectors.project_timeline),
    ("project", selectors.project_phase_stays),
    ("milestone", selectors.milestone_get),
    ("touchpoint", selectors.touchpoint_get),
    ("feedback", selectors.feedback_get),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "selector"), SELECTORS, ids=[s.__name__ for _, s in SELECTORS])
def test_selectors_answer_another_organizations_object_as_missing(org, theirs, kind, selector):
    with pytest.raises(Http404):
        selector(organization=org, **{f"{kind}_id": theirs[kind].pk})


@pytest.mark.django_db
def test_lists_never_show_another_organization(org, theirs):
    assert selectors.client_list(organization=org).count() == 0
    assert selectors.project_list(organization=org).count() == 0
    assert selectors.contact_list(organization=org).count() == 0
    assert selectors.milestone_list(organization=org).count() == 0
    assert selectors.touchpoint_list(organization=org).count() == 0
    assert selectors.feedback_list(organization=org).count() == 0
    assert set(selectors.project_phase_counts(organization=org).values()) == {0}


def _foreign_body_cases(theirs, mine):
    yesterday = timezone.now() - dt.timedelta(days=1)
    return [
        (contact_create, {"client": theirs["client"].pk, "name": "Eve"}, "client"),
        (
            project_open,
            {"client": theirs["client"].pk, "name": "X", "code": "X-1", "modality": "adc"},
            "client",
        ),
        (
            milestone_create,
            {
                "project": theirs["project"].pk,
                "title": "T",
                "phase": "plan",
                "due_date": "2030-01-01",
            },
            "project",
        ),
        (
            touchpoint_create,
            {"client": theirs["client"].pk, "kind": "call", "at": yesterday},
            "client",
        ),
        (
            touchpoint_create,
            {
                "client": mine["client"].pk,
                "project": theirs["project"].pk,
                "kind": "call",
                "at": yesterday,
            },
            "project",
        ),
        (
            feedback_create,
            {
                "project": theirs["project"].pk,
                "kind": "csat",
                "score": 4,
                "phase": "assess",
                "responded_at": yesterday,
            },
            "project",
        ),
        (
            feedback_create,
            {
                "project": mine["project"].pk,
                "kind": "csat",
                "phase": "assess",
                "contact": theirs["contact"].pk,
            },
            "contact",
        ),
    ]


@pytest.mark.django_db
def test_foreign_ids_in_a_body_are_field_errors_and_write_nothing(admin, org, other_org, theirs):
    mine = {"project": ProjectFactory(client__organization=org)}
    mine["client"] = mine["project"].client
    cases = _foreign_body_cases(theirs, mine)
    for service, body, field in cases:
        before_mine, before_theirs = _world(org), _world(other_org)
        with pytest.raises(JourneyError) as err:
            service(actor=admin, **body)
        assert err.value.field == field, service.__name__
        assert "in this organization" in err.value.message
        assert _world(org) == before_mine and _world(other_org) == before_theirs


@pytest.mark.django_db
def test_updates_cannot_point_at_another_organizations_objects(admin, org, theirs, other_admin):
    project = ProjectFactory(client__organization=org)
    before = _world(org)
    with pytest.raises(JourneyError) as err:
        project_update(actor=admin, project_id=project.pk, client=theirs["client"].pk)
    assert err.value.field == "client"
    with pytest.raises(DomainError) as err:
        project_update(actor=admin, project_id=project.pk, project_manager=other_admin.user.email)
    assert err.value.field == "project_manager"
    assert _world(org) == before


@pytest.mark.django_db
def test_members_of_another_organization_are_not_members_here(admin, other_admin, org):
    client = ClientFactory(organization=org)
    with pytest.raises(DomainError) as err:
        client_update(actor=admin, client_id=client.pk, account_manager=other_admin.user.email)
    assert err.value.as_dict() == {
        "account_manager": [f"'{other_admin.user.email}' is not a member of this organization."]
    }
