"""The v1 contract: shapes, errors, filters, pagination, the journey over HTTP, query counts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers as drf

from accounts.models import AuditEvent
from journey.api import serializers as s
from journey.models import Client, Contact, Feedback, Milestone, Project, Touchpoint
from tests.api.world import build_side, create_body
from tests.factories import (
    ClientFactory,
    ContactFactory,
    FeedbackFactory,
    MembershipFactory,
    MilestoneFactory,
    ProjectFactory,
    TouchpointFactory,
)


@pytest.fixture
def api(org, key_client):
    return key_client(org, "write")


# --- shapes ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_project_shape_follows_the_spec(org, api, pm):
    client = ClientFactory(organization=org)
    response = api.post(
        "/api/v1/projects/",
        {
            "client": client.pk,
            "name": "PPQ",
            "code": "PPQ-1",
            "modality": "biologic",
            "project_manager": pm.user.email,
            "contract_value": "1500000.00",
            "currency": "EUR",
            "opened_at": "2025-01-15T09:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    spec_fields = {
        "id",
        "client",
        "name",
        "code",
        "modality",
        "service_type",
        "project_manager",
        "executive_sponsor",
        "contract_value",
        "currency",
        "opened_at",
        "phase",
        "status",
    }
    assert spec_fields <= set(body)
    assert body["contract_value"] == "1500000.00" and body["project_manager"] == pm.user.email
    assert (body["phase"], body["status"], body["opened_at"]) == (
        "assess",
        "active",
        "2025-01-15T09:00:00Z",
    )
    assert body["executive_sponsor"] is None and body["phase_entered_at"] == "2025-01-15T09:00:00Z"


@pytest.mark.django_db
def test_client_defaults_and_list_shape(org, api):
    response = api.post(
        "/api/v1/clients/",
        {"name": "Big One", "segment": "big_pharma", "modalities": ["adc", "peptide"]},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["service_model"] == "transactional"
    listing = api.get("/api/v1/clients/").json()
    assert set(listing) == {"count", "next", "previous", "results"}
    assert listing["count"] == 1 and listing["results"][0]["modalities"] == ["adc", "peptide"]


# --- errors ---------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "body", "errors"),
    [
        (
            "/api/v1/clients/",
            {"name": "X", "segment": "pharma"},
            {"segment": ['"pharma" is not a valid choice.']},
        ),
        (
            "/api/v1/clients/",
            {},
            {"name": ["This field is required."], "segment": ["This field is required."]},
        ),
        (
            "/api/v1/clients/",
            {"name": "X", "segment": "biotech", "account_manager": "ghost@nowhere.example"},
            {"account_manager": ["'ghost@nowhere.example' is not a member of this organization."]},
        ),
        (
            "/api/v1/clients/",
            {"name": "X", "segment": "biotech", "modalities": ["crispr"]},
            {"modalities": {"0": ['"crispr" is not a valid choice.']}},
        ),
        (
            "/api/v1/projects/",
            {"client": 0, "name": "X", "code": "C", "modality": "adc"},
            {"client": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            "/api/v1/projects/",
            {"client": 99999999, "name": "X", "code": "C", "modality": "adc"},
            {"client": ["No client with id 99999999 in this organization."]},
        ),
        (
            "/api/v1/projects/",
            {"client": "abc", "name": "X", "code": "C", "modality": "adc"},
            {"client": ["A valid integer is required."]},
        ),
        (
            "/api/v1/projects/",
            {
                "client": 1,
                "name": "X",
                "code": "C",
                "modality": "adc",
                "opened_at": "2999-01-01T00:00:00Z",
            },
            None,
        ),
        (
            "/api/v1/feedback/",
            {
                "project": 1,
                "kind": "csat",
                "phase": "assess",
                "score": 11,
                "responded_at": "2025-01-01T00:00:00Z",
            },
            {"score": ["Ensure this value is less than or equal to 10."]},
        ),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_writes_nothing(org, api, url, body, errors):
    ClientFactory(organization=org)
    before = AuditEvent.objects.for_organization(org).count()
    response = api.post(url, body, format="json")
    assert response.status_code == 400, response.content
    if errors is not None:
        assert response.json() == errors
    else:
        assert set(response.json()) <= {"client", "opened_at"}
    assert AuditEvent.objects.for_organization(org).count() == before


@pytest.mark.django_db
def test_domain_errors_reach_the_api_as_field_errors(org, api):
    project = ProjectFactory(client__organization=org, code="DUP-1")
    cases = [
        (
            "/api/v1/projects/",
            {"client": project.client_id, "name": "Y", "code": "dup-1", "modality": "adc"},
            {"code": ["A project with this code already exists."]},
        ),
        (
            "/api/v1/feedback/",
            {
                "project": project.pk,
                "kind": "csat",
                "phase": "assess",
                "score": 6,
                "responded_at": "2025-06-01T00:00:00Z",
            },
            {"score": ["A CSAT score runs from 1 to 5."]},
        ),
        (
            "/api/v1/feedback/",
            {
                "project": project.pk,
                "kind": "csat",
                "phase": "execute",
                "score": 3,
                "responded_at": (timezone.now() - dt.timedelta(days=1)).isoformat(),
            },
            None,
        ),
    ]
    for url, body, errors in cases:
        response = api.post(url, body, format="json")
        assert response.status_code == 400, response.content
        if errors:
            assert response.json() == errors
        else:
            assert list(response.json()) == ["phase"]
    assert Feedback.objects.for_organization(org).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"null", "application/json"),
        (b'"text"', "application/json"),
    ],
    ids=["malformed", "empty", "list", "null", "string"],
)
def test_malformed_or_empty_bodies_are_400_objects(org, api, raw, content_type):
    response = api.generic("POST", "/api/v1/clients/", raw, content_type=content_type)
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body, dict) and body
    assert all(isinstance(v, list) for v in body.values())
    assert not Client.objects.for_organization(org).exists()


@pytest.mark.django_db
def test_patch_of_journey_fields_is_refused_with_a_reason(org, api):
    project = ProjectFactory(client__organization=org)
    response = api.patch(f"/api/v1/projects/{project.pk}/", {"phase": "plan"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"phase": ["phase cannot be edited here: use a transition."]}


@pytest.mark.django_db
def test_put_is_not_offered(org, api):
    client = ClientFactory(organization=org)
    response = api.put(
        f"/api/v1/clients/{client.pk}/", {"name": "X", "segment": "biotech"}, format="json"
    )
    assert response.status_code == 405


# --- the journey over HTTP ------------------------------------------------------------------
@pytest.mark.django_db
def test_history_loads_with_backdated_moves_and_the_timeline_reads_it(org, api):
    client = ClientFactory(organization=org)
    project = api.post(
        "/api/v1/projects/",
        {
            "client": client.pk,
            "name": "Legacy",
            "code": "OLD-1",
            "modality": "peptide",
            "opened_at": "2024-01-10T00:00:00Z",
        },
        format="json",
    ).json()
    url = f"/api/v1/projects/{project['id']}/transition/"
    for to, at in [
        ("initiate", "2024-02-01T00:00:00Z"),
        ("plan", "2024-02-20T00:00:00Z"),
        ("execute", "2024-04-01T00:00:00Z"),
        ("close_out", "2024-10-01T00:00:00Z"),
        ("completed", "2024-11-15T00:00:00Z"),
    ]:
        response = api.post(url, {"to": to, "at": at}, format="json")
        assert response.status_code == 200, response.content
    assert (response.json()["phase"], response.json()["status"]) == ("close_out", "completed")
    timeline = api.get(f"/api/v1/projects/{project['id']}/timeline/").json()
    assert [(t["seq"], t["kind"], t["to_phase"], t["at"]) for t in timeline] == [
        (1, "opened", "assess", "2024-01-10T00:00:00Z"),
        (2, "won", "initiate", "2024-02-01T00:00:00Z"),
        (3, "advanced", "plan", "2024-02-20T00:00:00Z"),
        (4, "advanced", "execute", "2024-04-01T00:00:00Z"),
        (5, "advanced", "close_out", "2024-10-01T00:00:00Z"),
        (6, "completed", "close_out", "2024-11-15T00:00:00Z"),
    ]


@pytest.mark.django_db
def test_refused_transitions_are_400_and_change_nothing(org, api):
    project = ProjectFactory(
        client__organization=org, opened_at=timezone.now() - dt.timedelta(days=10)
    )
    url = f"/api/v1/projects/{project.pk}/transition/"
    cases = [
        ({"to": "plan"}, "to"),
        ({"to": "initiate", "at": (timezone.now() + dt.timedelta(hours=1)).isoformat()}, "at"),
        ({"to": "initiate", "at": (timezone.now() - dt.timedelta(days=20)).isoformat()}, "at"),
        ({"to": "won"}, "to"),
        ({}, "to"),
        ({"to": "completed"}, "to"),
    ]
    for body, field in cases:
        response = api.post(url, body, format="json")
        assert response.status_code == 400, response.content
        assert list(response.json()) == [field]
    assert Project.objects.for_organization(org).get(pk=project.pk).journal_seq == 1


@pytest.mark.django_db
def test_admin_backward_move_needs_a_reason_over_http(org, session_client, admin):
    project = ProjectFactory(client__organization=org)
    client = session_client(admin.user)
    url = f"/api/v1/projects/{project.pk}/transition/"
    assert client.post(url, {"to": "initiate"}, format="json").status_code == 200
    refused = client.post(url, {"to": "assess"}, format="json")
    assert refused.status_code == 400 and list(refused.json()) == ["reason"]
    ok = client.post(url, {"to": "assess", "reason": "Decision reversed by sponsor"}, format="json")
    assert ok.status_code == 200 and ok.json()["phase"] == "assess"


# --- write-side foreign keys ----------------------------------------------------------------
FK_FIELDS = {"client": "clients", "project": "projects", "contact": "contacts"}
PERSON_FIELDS = {"account_manager", "project_manager", "executive_sponsor", "by"}
INPUTS = {
    "clients": s.ClientIn,
    "contacts": s.ContactIn,
    "projects": s.ProjectIn,
    "milestones": s.MilestoneIn,
    "touchpoints": s.TouchpointIn,
    "feedback": s.FeedbackIn,
}


def _reference_fields():
    """Every field of every input body that names another object or a person, read from
    the serializers: a new reference field joins this test by itself."""
    out = []
    for resource, serializer in INPUTS.items():
        for name, field in serializer().fields.items():
            if isinstance(field, drf.IntegerField) and name != "score":
                assert name in FK_FIELDS, (
                    f"{resource}.{name}: new id field, teach FK_FIELDS its target"
                )
                out.append((resource, name))
            elif isinstance(field, drf.EmailField) and (resource, name) != ("contacts", "email"):
                assert name in PERSON_FIELDS, f"{resource}.{name}: new person field"
                out.append((resource, name))
    return out


REFERENCES = _reference_fields()


def test_every_reference_field_is_known():
    assert len(REFERENCES) == 11


@pytest.mark.django_db
@pytest.mark.parametrize(("resource", "field"), REFERENCES, ids=[f"{r}.{f}" for r, f in REFERENCES])
@pytest.mark.parametrize("verb", ["create", "patch"])
def test_another_organizations_reference_is_a_400_on_that_field(resource, field, verb):
    own, other = build_side("Own"), build_side("Other")
    api = _client(own)
    body = create_body(resource, own)
    if resource == "feedback" and field == "contact":
        body = {**body, "contact": own.objects["contacts"].pk}
    foreign = (
        other.users["account_manager"].email
        if field in PERSON_FIELDS
        else other.objects[FK_FIELDS[field]].pk
    )
    models = [Client, Contact, Project, Milestone, Touchpoint, Feedback, AuditEvent]
    before = [
        sorted(m.objects.for_organization(side.org).values_list("pk", flat=True))
        for side in (own, other)
        for m in models
    ]
    if verb == "create":
        response = api.post(f"/api/v1/{resource}/", {**body, field: foreign}, format="json")
    else:
        response = api.patch(
            f"/api/v1/{resource}/{own.objects[resource].pk}/", {field: foreign}, format="json"
        )
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    after = [
        sorted(m.objects.for_organization(side.org).values_list("pk", flat=True))
        for side in (own, other)
        for m in models
    ]
    assert after == before
    assert (
        type(own.objects[resource])
        .objects.for_organization(own.org)
        .get(pk=own.objects[resource].pk)
        .updated_at
        == own.objects[resource].updated_at
    )


def _client(side):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {side.keys['write']}")
    return client


# --- filters and paging ---------------------------------------------------------------------
@pytest.mark.django_db
def test_filters(org, api, pm):
    bio = ClientFactory(
        organization=org, name="Bio A", segment="biotech", modalities=["mrna", "adc"]
    )
    pharma = ClientFactory(
        organization=org, name="Pharma B", segment="big_pharma", modalities=["adc"]
    )
    p1 = ProjectFactory(client=bio, name="mRNA supply", modality="mrna", project_manager=pm.user)
    p2 = ProjectFactory(client=pharma, name="ADC tox", modality="adc")

    def ids(url, **params):
        response = api.get(url, params)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids("/api/v1/clients/", segment="biotech") == {bio.pk}
    assert ids("/api/v1/clients/", modality="adc") == {bio.pk, pharma.pk}
    assert ids("/api/v1/clients/", modality="mrna") == {bio.pk}
    assert ids("/api/v1/clients/", search="pharma") == {pharma.pk}
    assert ids("/api/v1/projects/", segment="big_pharma") == {p2.pk}
    assert ids("/api/v1/projects/", phase="assess", status="active") == {p1.pk, p2.pk}
    assert ids("/api/v1/projects/", client=bio.pk) == {p1.pk}
    assert ids("/api/v1/projects/", project_manager=pm.user.email.upper()) == {p1.pk}
    assert ids("/api/v1/projects/", modality="adc") == {p2.pk}
    assert ids("/api/v1/projects/", search="tox") == {p2.pk}
    assert (
        ids("/api/v1/projects/", opened_after=(timezone.now() + dt.timedelta(days=1)).isoformat())
        == set()
    )
    bad = api.get("/api/v1/projects/", {"phase": "launch"})
    assert bad.status_code == 400 and list(bad.json()) == ["phase"]
    ordered = api.get("/api/v1/projects/", {"ordering": "code"}).json()["results"]
    assert [r["code"] for r in ordered] == sorted([p1.code, p2.code])


@pytest.mark.django_db
def test_pagination(org, api):
    for i in range(7):
        ClientFactory(organization=org, name=f"Client {i:02d}")
    first = api.get("/api/v1/clients/", {"page_size": 3}).json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["previous"] is None
    assert "page=2" in first["next"]
    last = api.get("/api/v1/clients/", {"page_size": 3, "page": 3}).json()
    assert [r["name"] for r in last["results"]] == ["Client 06"] and last["next"] is None
    assert api.get("/api/v1/clients/", {"page": 99}).status_code == 404


# --- query counts ---------------------------------------------------------------------------
def _seed(org, n):
    pm = MembershipFactory(organization=org, role="project_manager").user
    for _ in range(n):
        client = ClientFactory(organization=org, account_manager=pm)
        project = ProjectFactory(client=client, project_manager=pm)
        ContactFactory(client=client, organization=org)
        MilestoneFactory(project=project, organization=org)
        TouchpointFactory(client=client, project=project, organization=org, by=pm)
        FeedbackFactory(project=project, organization=org, contact=None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "resource", ["clients", "contacts", "projects", "milestones", "touchpoints", "feedback"]
)
def test_list_query_count_is_constant_in_rows(org, api, resource):
    url = f"/api/v1/{resource}/"
    api.get(url)  # warm-up (key last_used_at)
    _seed(org, 2)
    with CaptureQueriesContext(connection) as few:
        assert api.get(url, {"page_size": 200}).status_code == 200
    _seed(org, 25)
    with CaptureQueriesContext(connection) as many:
        response = api.get(url, {"page_size": 200})
    assert response.json()["count"] >= 27
    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"] for q in many.captured_queries
    ]


@pytest.mark.django_db
def test_timeline_query_count_is_constant(org, api):
    project = ProjectFactory(
        client__organization=org, opened_at=timezone.now() - dt.timedelta(days=100)
    )
    url = f"/api/v1/projects/{project.pk}/timeline/"
    api.get(url)
    with CaptureQueriesContext(connection) as few:
        api.get(url)
    for i, to in enumerate(["initiate", "plan", "execute", "on_hold", "active"]):
        api.post(
            f"/api/v1/projects/{project.pk}/transition/",
            {"to": to, "at": (timezone.now() - dt.timedelta(days=90 - i)).isoformat()},
            format="json",
        )
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(url).json()) == 6
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.django_db
def test_docs_and_schema_are_served(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


@pytest.mark.django_db
def test_filter_values_out_of_range_are_400_not_500(org, api):
    """Found by schemathesis: ids past 64 bits, offsets PostgreSQL refuses, years before 1."""
    assert api.get("/api/v1/projects/", {"client": 2**70}).status_code == 400
    assert api.get("/api/v1/projects/", {"client": "1.5"}).status_code == 400
    odd_offset = api.get("/api/v1/projects/", {"opened_before": "0586-04-04T10:23:45+19:28"})
    assert odd_offset.status_code == 200
    assert (
        api.get("/api/v1/projects/", {"opened_before": "0001-01-01T00:00:00+10:00"}).status_code
        == 400
    )
    assert api.get(f"/api/v1/projects/{2**70}/").status_code == 404


@pytest.mark.django_db
def test_json_too_deep_or_too_large_is_a_json_error_and_writes_nothing(org, key_client, settings):
    client = key_client(org)
    deep = "[" * 5000 + "]" * 5000
    response = client.post("/api/v1/clients/", deep, content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "nested too deeply" in response.json()["non_field_errors"][0]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    big = json.dumps({"name": "x" * (100 * 1024), "segment": "biotech"})
    response = client.post("/api/v1/clients/", big, content_type="application/json")
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert "larger than 64 KiB" in response.json()["non_field_errors"][0]
    assert not Client.objects.for_organization(org).exists()


@pytest.mark.django_db
def test_events_before_1990_and_plans_beyond_ten_years_are_refused(org, key_client):
    """A year-1 opening would spread one project's figures over two thousand years."""
    api = key_client(org)
    client = api.post(
        "/api/v1/clients/", {"name": "Era Bio", "segment": "biotech"}, format="json"
    ).json()
    body = {"client": client["id"], "name": "Old", "code": "OLD-1", "modality": "adc"}
    response = api.post(
        "/api/v1/projects/", {**body, "opened_at": "0001-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert "before 1990-01-01" in response.json()["opened_at"][0]
    assert not Project.objects.for_organization(org).exists()
    project = api.post(
        "/api/v1/projects/", {**body, "opened_at": "2024-01-01T00:00:00Z"}, format="json"
    ).json()
    response = api.post(
        "/api/v1/touchpoints/",
        {"client": client["id"], "kind": "call", "at": "1000-06-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400 and "before 1990-01-01" in response.json()["at"][0]
    far = (timezone.now() + dt.timedelta(days=365 * 10 + 5)).date().isoformat()
    for due in ("9999-12-31", far):
        response = api.post(
            "/api/v1/milestones/",
            {"project": project["id"], "title": "Far", "phase": "assess", "due_date": due},
            format="json",
        )
        assert response.status_code == 400, due
        assert "ten years ahead" in response.json()["due_date"][0]
    assert not Touchpoint.objects.for_organization(org).exists()
    assert not Milestone.objects.for_organization(org).exists()
