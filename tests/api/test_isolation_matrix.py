"""The isolation matrix, generated from the OpenAPI schema (itself generated from the URL conf):
every operation x every role and key scope x {own object, another organization's object}.

Another organization's objects are 404 on read and write and absent from every list; an
operation that appears in the schema without a rule here fails `test_every_operation_is_covered`
(and its own matrix cases), so a new endpoint cannot skip the matrix.
"""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from accounts.tenancy import organization_scope
from metrics.models import MetricRun
from tests.api.world import (
    ACTION_BODIES,
    MAY_DELETE,
    MAY_READ,
    MAY_RECOMPUTE,
    MAY_TRANSITION,
    MAY_WRITE,
    NO_REFERENCES,
    PATCH_BODIES,
    PRINCIPALS,
    build_side,
    create_body,
)

PREFIX = "/api/v1/"
SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = sorted(
    (path, method.upper())
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in {"get", "post", "patch", "put", "delete"}
)


def classify(path: str, method: str) -> tuple[str, str]:
    """(resource, operation kind) of a schema operation; unknown shapes raise."""
    parts = path.removeprefix(PREFIX).strip("/").split("/")
    resource = parts[0]
    if resource not in MAY_WRITE:
        raise AssertionError(f"{method} {path}: resource '{resource}' has no isolation rule")
    shape = (len(parts), method)
    kinds = {
        (1, "GET"): "list",
        (1, "POST"): "create",
        (2, "GET"): "retrieve",
        (2, "PATCH"): "partial_update",
        (2, "DELETE"): "destroy",
    }
    if shape in kinds and (len(parts) == 1 or parts[1] == "{id}"):
        return resource, kinds[shape]
    if resource == "metrics" and parts[1:] == ["recompute"] and method == "POST":
        return resource, "recompute"
    if (
        len(parts) == 3
        and parts[1] == "{id}"
        and (resource, parts[2], method)
        in {
            ("projects", "transition", "POST"),
            ("projects", "timeline", "GET"),
            ("projects", "pm-suggestions", "GET"),
            ("alerts", "resolve", "POST"),
            ("alerts", "snooze", "POST"),
            ("webhooks", "test", "POST"),
            ("webhooks", "deliveries", "GET"),
        }
    ):
        return resource, parts[2]
    raise AssertionError(f"{method} {path}: no isolation rule for this operation")


def test_every_operation_is_covered():
    assert len(OPERATIONS) >= 54
    for path, method in OPERATIONS:
        classify(path, method)


@pytest.fixture
def world(db):
    return build_side("Own CDMO"), build_side("Other CDMO")


def client_for(principal: str, side) -> APIClient:
    client = APIClient()
    kind, name = principal.split(":")
    if kind == "key":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {side.keys[name]}")
    else:
        client.force_login(side.users[name])
    return client


def fingerprint(side) -> tuple:
    """What a refused request must leave unchanged in an organization."""
    rows = []
    # In the organization's scope: with the application's filter switched off
    # (tests/rls), the database's row-level security alone scopes these reads.
    with organization_scope(side.org):
        for name, obj in side.objects.items():
            model = type(obj)
            rows.append(
                (
                    name,
                    sorted(
                        model.objects.for_organization(side.org).values_list("pk", "updated_at")
                    ),
                )
            )
        rows.append(("audit", AuditEvent.objects.for_organization(side.org).count()))
    return tuple(rows)


CASES = [
    (p, m, who, target) for p, m in OPERATIONS for who in PRINCIPALS for target in ("own", "other")
]


@pytest.mark.parametrize(
    ("path", "method", "who", "target"), CASES, ids=[f"{m} {p} {w} {t}" for p, m, w, t in CASES]
)
def test_isolation_matrix(world, path, method, who, target):
    own, other = world
    resource, kind = classify(path, method)
    client = client_for(who, own)
    target_side = own if target == "own" else other
    obj = target_side.objects[resource]
    url = path.replace("{id}", str(obj.pk))
    before_other = fingerprint(other)

    may_read = who in MAY_READ.get(resource, {who})
    if kind == "list":
        response = client.get(url, {"page_size": 200})
        if not may_read:
            assert response.status_code == 403, response.content
            return
        assert response.status_code == 200, response.content
        if resource == "metrics":  # figures have no id: each side's row carries a marker
            values = {row["dimension_value"] for row in response.json()["results"]}
            assert other.objects["metrics"].dimension_value not in values
            if target == "own":
                assert obj.dimension_value in values
            return
        ids = {row["id"] for row in response.json()["results"]}
        with organization_scope(other.org):
            other_ids = set(
                type(obj).objects.for_organization(other.org).values_list("pk", flat=True)
            )
        assert not ids & other_ids
        if target == "own":
            assert obj.pk in ids
        return

    if kind == "create":
        body = create_body(resource, target_side)
        response = client.post(url, body, format="json")
        if who not in MAY_WRITE[resource]:
            assert response.status_code == 403, response.content
        elif target == "own" or resource in NO_REFERENCES:
            assert response.status_code == 201, response.content
        else:
            # A reference to another organization's object is a 400 on that field.
            assert response.status_code == 400, response.content
            assert set(response.json()) & {"client", "project", "account_manager"}, response.content
        assert fingerprint(other) == before_other
        return

    if kind == "recompute":
        # No id in the URL: the caller's organization is the only one it can touch.
        response = client.post(url)
        assert response.status_code == (202 if who in MAY_RECOMPUTE else 403), response.content
        with organization_scope(other.org):
            other_run_ids = set(
                MetricRun.objects.for_organization(other.org).values_list("pk", flat=True)
            )
        if response.status_code == 202:
            assert response.json()["run"]["id"] not in other_run_ids
        assert fingerprint(other) == before_other
        return

    if target == "other":
        send = {
            "retrieve": client.get,
            "timeline": client.get,
            "pm-suggestions": client.get,
            "destroy": client.delete,
            "partial_update": client.patch,
            "transition": client.post,
            "resolve": client.post,
            "snooze": client.post,
            "test": client.post,
            "deliveries": client.get,
        }[kind]
        body = {"partial_update": PATCH_BODIES.get(resource), **ACTION_BODIES}.get(kind)
        response = send(url, body, format="json") if body else send(url)
        assert response.status_code == 404, response.content
        assert response.json() == {"detail": "Not found."}
        assert fingerprint(other) == before_other
        return

    if kind in ("retrieve", "timeline", "pm-suggestions", "deliveries"):
        response = client.get(url)
        assert response.status_code == (200 if may_read else 403), response.content
        return
    if kind == "test":
        response = client.post(url)
        assert response.status_code == (202 if who in MAY_WRITE[resource] else 403), (
            response.content
        )
        assert fingerprint(other) == before_other
        return
    if kind == "partial_update":
        response = client.patch(url, PATCH_BODIES[resource], format="json")
        expected = 200 if who in MAY_WRITE[resource] else 403
    elif kind == "destroy":
        if resource == "clients":  # a client with projects cannot be deleted; use an empty one
            from tests.factories import ClientFactory

            url = path.replace("{id}", str(ClientFactory(organization=own.org).pk))
        response = client.delete(url)
        expected = 204 if who in MAY_DELETE[resource] else 403
    elif kind in ("resolve", "snooze"):
        response = client.post(url, ACTION_BODIES[kind], format="json")
        expected = 200 if who in MAY_WRITE[resource] else 403
    else:  # transition
        response = client.post(url, ACTION_BODIES["transition"], format="json")
        expected = 200 if who in MAY_TRANSITION else 403
    assert response.status_code == expected, response.content
    assert fingerprint(other) == before_other
