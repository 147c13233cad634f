"""Webhooks against a real HTTP receiver on 127.0.0.1 (`WEBHOOK_ALLOW_PRIVATE` on for it):
signed as Standard Webhooks says, the body's shape, retries with backoff and the same
webhook-id, disabling after 5 failed events, the SSRF guard, permissions, isolation, the
test event, the delivery log, and a rolled-back cause that sends nothing."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import transaction
from rest_framework.test import APIClient
from standardwebhooks import Webhook as Verifier

from accounts.errors import DomainError, PermissionDeniedError
from accounts.models import OutboxMessage, Role, Webhook, WebhookDelivery
from accounts.outbox import RETRY_DELAYS, outbox_flush_due_across_organizations
from accounts.webhooks import webhook_create, webhook_emit, webhook_test
from journey.services import feedback_create, project_open, project_transition
from tests.api.conftest import make_key
from tests.factories import ClientFactory

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


class Receiver:
    """An HTTP server in a thread: records every request, answers `status` (or the next of
    `statuses`)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                self.send_response(receiver.status)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status < 300 else b"receiver says no")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def payloads(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hook(admin, receiver):
    webhook, secret = webhook_create(
        actor=admin,
        url=receiver.url,
        events=["project.created", "project.transition", "feedback.received", "alert.raised"],
    )
    webhook.plain_secret = secret
    return webhook


def verify(secret: str, request: dict) -> dict:
    return Verifier(secret).verify(request["body"], request["headers"])


def rows(org):
    return OutboxMessage.objects.for_organization(org).filter(kind="webhook")


def open_project(actor, code="WH-1"):
    client = ClientFactory(organization=actor.organization)
    return project_open(actor=actor, client=client.pk, name="Hooked", code=code, modality="adc")


# --- delivery ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_event_is_delivered_signed_with_the_api_rendering(
    admin, hook, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        project = open_project(admin)
    [request] = receiver.requests
    assert request["path"] == "/hooks"
    body = verify(hook.plain_secret, request)  # raises unless the signature matches
    assert set(body) == {"type", "timestamp", "data"}
    assert body["type"] == "project.created"
    assert dt.datetime.fromisoformat(body["timestamp"]).tzinfo is not None
    assert body["data"]["id"] == project.pk and body["data"]["code"] == "WH-1"
    assert body["data"]["phase"] == "assess" and body["data"]["status"] == "active"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    assert abs(int(headers["webhook-timestamp"]) - dt.datetime.now(dt.UTC).timestamp()) < 60
    # A wrong secret does not verify.
    with pytest.raises(Exception, match="signature"):
        Verifier("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(
            request["body"], request["headers"]
        )
    [log] = WebhookDelivery.objects.for_organization(admin.organization)
    assert (log.status_code, log.attempt, log.error, log.event_type) == (
        200,
        1,
        "",
        "project.created",
    )
    assert log.event_id == headers["webhook-id"]
    assert rows(admin.organization).get().status == "done"


@pytest.mark.django_db
def test_transition_feedback_and_alert_events(
    admin, hook, receiver, django_capture_on_commit_callbacks
):
    project = open_project(admin)  # not captured: its delivery never runs
    with django_capture_on_commit_callbacks(execute=True):
        project_transition(actor=admin, project_id=project.pk, to="initiate", note="Won it")
    [moved] = receiver.payloads()
    assert moved["type"] == "project.transition"
    assert moved["data"]["phase"] == "initiate" and moved["data"]["id"] == project.pk
    assert moved["data"]["transition"]["from_phase"] == "assess"
    assert moved["data"]["transition"]["to_phase"] == "initiate"
    assert moved["data"]["transition"]["note"] == "Won it"
    with django_capture_on_commit_callbacks(execute=True):
        feedback = feedback_create(
            actor=admin,
            project=project.pk,
            kind="csat",
            phase="assess",
            score=1,
            responded_at=dt.datetime.now(dt.UTC),
        )
    types = [p["type"] for p in receiver.payloads()[1:]]
    assert types[0] == "feedback.received" and set(types[1:]) == {"alert.raised"}
    received = receiver.payloads()[1]
    assert received["data"]["id"] == feedback.pk and received["data"]["score"] == 1
    alert = receiver.payloads()[2]["data"]
    assert alert["feedback"] == feedback.pk and alert["kind"] == "low_score"
    assert alert["state"] == "open"
    # One event, one id: every endpoint row of an event shares it; events differ.
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(ids) == len(receiver.requests)


@pytest.mark.django_db
def test_only_subscribed_active_endpoints_get_a_row(admin, receiver, settings):
    webhook_create(actor=admin, url=receiver.url + "/a", events=["alert.raised"])
    webhook_create(actor=admin, url=receiver.url + "/b", events=["project.created"], active=False)
    on, _ = webhook_create(actor=admin, url=receiver.url + "/c", events=["project.created"])
    event_id = webhook_emit(organization=admin.organization, type="project.created", data={})
    [row] = rows(admin.organization)
    assert row.payload["webhook"] == on.pk and row.payload["id"] == event_id
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhook_emit(organization=admin.organization, type="project.deleted", data={})
    # Accepted already, emitted by the delivery module later.
    assert webhook_emit(organization=admin.organization, type="wait.started", data={}) == ""


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_cause_sends_nothing(admin, hook, receiver):
    with pytest.raises(RuntimeError), transaction.atomic():
        open_project(admin)
        assert rows(admin.organization).count() == 1  # written with its cause...
        raise RuntimeError("the cause rolled back")
    assert not rows(admin.organization).exists()  # ...and gone with it
    assert receiver.requests == []
    open_project(admin, code="WH-2")  # committed: sent after commit
    assert [p["data"]["code"] for p in receiver.payloads()] == ["WH-2"]


# --- retries and disabling -----------------------------------------------------------------
def _drive(org, receiver, start: dt.datetime) -> list[dt.datetime]:
    """Advance the clock through the outbox's retry schedule, flushing at each step."""
    at = start
    for delay in RETRY_DELAYS:
        at += dt.timedelta(seconds=delay)
        with time_machine.travel(at, tick=False):
            outbox_flush_due_across_organizations()
    return at


@pytest.mark.django_db
def test_a_500_is_retried_with_backoff_and_the_same_webhook_id(
    admin, hook, receiver, django_capture_on_commit_callbacks
):
    receiver.status = 500
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        webhook_emit(organization=admin.organization, type="project.created", data={"n": 1})
    row = rows(admin.organization).get()
    assert (row.status, row.attempts, row.next_attempt_at) == (
        "failed",
        1,
        T0 + dt.timedelta(seconds=60),
    )
    # Not due before its time.
    with time_machine.travel(T0 + dt.timedelta(seconds=59), tick=False):
        assert outbox_flush_due_across_organizations() == 0
    _drive(admin.organization, receiver, T0)
    assert len(receiver.requests) == 1 + len(RETRY_DELAYS) == 6
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1
    stamps = [int(r["headers"]["webhook-timestamp"]) for r in receiver.requests]
    assert [b - a for a, b in itertools.pairwise(stamps)] == [60, 300, 1800, 7200, 28800]
    for request in receiver.requests:  # each signed for its own timestamp
        with time_machine.travel(
            dt.datetime.fromtimestamp(int(request["headers"]["webhook-timestamp"]), dt.UTC)
        ):
            verify(hook.plain_secret, request)
    row.refresh_from_db()
    assert row.status == "dead" and "HTTP 500" in row.last_error
    logs = list(WebhookDelivery.objects.for_organization(admin.organization).order_by("at"))
    assert [d.attempt for d in logs] == [1, 2, 3, 4, 5, 6]
    assert {d.status_code for d in logs} == {500}
    assert "receiver says no" in logs[0].error
    hook.refresh_from_db()
    assert hook.consecutive_failures == 1 and hook.disabled_at is None


@pytest.mark.django_db
def test_five_failed_events_in_a_row_disable_the_endpoint(
    admin, hook, receiver, django_capture_on_commit_callbacks
):
    org = admin.organization
    receiver.status = 500
    # One failed event, then a success: the count starts again.
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        webhook_emit(organization=org, type="project.created", data={"n": 0})
    end = _drive(org, receiver, T0)
    hook.refresh_from_db()
    assert hook.consecutive_failures == 1
    receiver.status = 204
    with time_machine.travel(end, tick=False), django_capture_on_commit_callbacks(execute=True):
        webhook_emit(organization=org, type="project.created", data={"n": 1})
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0
    # Five events that fail every attempt.
    receiver.status = 502
    start = end + dt.timedelta(hours=1)
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            webhook_emit(organization=org, type="project.created", data={"n": n})
    _drive(org, receiver, start)
    hook.refresh_from_db()
    assert hook.consecutive_failures == 5
    assert hook.disabled_at is not None
    assert "5 events in a row" in hook.disabled_reason and "HTTP 502" in hook.disabled_reason
    # Disabled: a new event writes nothing for it.
    assert webhook_emit(organization=org, type="project.created", data={}) == ""
    # Admins see why in the API, and re-enable it there.
    api = APIClient()
    api.force_login(admin.user)
    shown = api.get(f"/api/v1/webhooks/{hook.pk}/").json()
    assert shown["disabled_reason"] == hook.disabled_reason and shown["disabled_at"]
    again = api.patch(f"/api/v1/webhooks/{hook.pk}/", {"active": True}, format="json")
    assert again.status_code == 200, again.content
    assert again.json()["disabled_at"] is None and again.json()["consecutive_failures"] == 0


# --- the SSRF guard --------------------------------------------------------------------------
REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://172.31.255.254/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://[::]/hook",
    "http://[fc00::1]/hook",
    "http://100.64.0.1/hook",
    "http://localhost:8000/hook",  # a name that resolves to loopback
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", REFUSED)
def test_internal_addresses_are_refused(admin, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(DomainError) as refused:
        webhook_create(actor=admin, url=url, events=["project.created"])
    assert refused.value.field == "url" and "public addresses only" in refused.value.message
    assert not Webhook.objects.for_organization(admin.organization).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.215.14/hook", "https:// or http://"),
        ("file:///etc/passwd", "https:// or http://"),
        ("gopher://93.184.215.14/", "https:// or http://"),
        ("https://", "no host"),
        ("https://93.184.215.14:99999/", "valid URL"),
        ("", "required"),
    ],
)
def test_bad_urls_are_refused_with_a_message(admin, url, message):
    with pytest.raises(DomainError, match=message):
        webhook_create(actor=admin, url=url, events=["project.created"])


@pytest.mark.django_db
def test_private_addresses_pass_only_with_the_setting(admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhook, _ = webhook_create(actor=admin, url="http://10.1.2.3/hook", events=["alert.raised"])
    assert webhook.pk
    settings.WEBHOOK_ALLOW_PRIVATE = False
    public, _ = webhook_create(
        actor=admin, url="https://93.184.215.14/hook", events=["alert.raised"]
    )
    assert public.pk


@pytest.mark.django_db
def test_the_guard_runs_again_at_delivery(
    admin, hook, receiver, settings, django_capture_on_commit_callbacks
):
    """Registered while allowed (as a name that resolved publicly then would be); at
    delivery the address is checked again and the POST never leaves."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(organization=admin.organization, type="project.created", data={})
    assert receiver.requests == []
    [log] = WebhookDelivery.objects.for_organization(admin.organization)
    assert log.status_code is None and log.error.startswith("Refused:")
    assert "loopback" in log.error
    assert rows(admin.organization).get().status == "failed"


@pytest.mark.django_db
def test_redirects_are_not_followed(admin, hook, receiver, django_capture_on_commit_callbacks):
    receiver.status = 302
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(organization=admin.organization, type="project.created", data={})
    assert len(receiver.requests) == 1
    [log] = WebhookDelivery.objects.for_organization(admin.organization)
    assert log.status_code == 302 and "redirects are not followed" in log.error


# --- the API --------------------------------------------------------------------------------
def api_as(actor=None, key=None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    else:
        client.force_login(actor.user)
    return client


@pytest.mark.django_db
def test_create_shows_the_secret_once(admin):
    api = api_as(admin)
    response = api.post(
        "/api/v1/webhooks/",
        {"url": "https://93.184.215.14/in", "events": ["project.created", "alert.raised"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
    assert body["events"] == ["project.created", "alert.raised"] and body["active"] is True
    assert response["Cache-Control"] == "no-store"
    again = api.get(f"/api/v1/webhooks/{body['id']}/").json()
    assert "secret" not in again and body["secret"] not in json.dumps(again)
    listed = api.get("/api/v1/webhooks/").json()
    assert body["secret"] not in json.dumps(listed) and listed["count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://93.184.215.14/x", "events": ["project.deleted"]}, "events"),
        ({"url": "https://93.184.215.14/x", "events": []}, "events"),
        ({"url": "https://93.184.215.14/x"}, "events"),
        ({"events": ["project.created"]}, "url"),
        ({"url": "http://192.168.0.1/x", "events": ["project.created"]}, "url"),
        ({"url": "ftp://93.184.215.14/x", "events": ["project.created"]}, "url"),
        ({"url": "https://93.184.215.14/x", "events": "project.created"}, "events"),
    ],
)
def test_bad_input_is_a_400_on_its_field(admin, body, field):
    response = api_as(admin).post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Webhook.objects.for_organization(admin.organization).exists()


@pytest.mark.django_db
def test_a_duplicate_url_is_a_400(admin):
    webhook_create(actor=admin, url="https://93.184.215.14/x", events=["alert.raised"])
    response = api_as(admin).post(
        "/api/v1/webhooks/",
        {"url": "https://93.184.215.14/x", "events": ["project.created"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"url": ["An endpoint with this URL already exists."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [Role.EXECUTIVE, Role.ACCOUNT_MANAGER, Role.PROJECT_MANAGER, Role.VIEWER]
)
def test_other_roles_may_not_manage_webhooks(org, admin, make_actor, role):
    webhook, _ = webhook_create(actor=admin, url="https://93.184.215.14/x", events=["alert.raised"])
    api = api_as(make_actor(org, role))
    assert api.get("/api/v1/webhooks/").status_code == 403
    assert api.get(f"/api/v1/webhooks/{webhook.pk}/").status_code == 403
    assert api.get(f"/api/v1/webhooks/{webhook.pk}/deliveries/").status_code == 403
    assert api.post(f"/api/v1/webhooks/{webhook.pk}/test/").status_code == 403
    body = {"url": "https://93.184.215.14/y", "events": ["alert.raised"]}
    assert api.post("/api/v1/webhooks/", body, format="json").status_code == 403
    assert api.delete(f"/api/v1/webhooks/{webhook.pk}/").status_code == 403
    assert Webhook.objects.for_organization(org).count() == 1
    with pytest.raises(PermissionDeniedError):
        webhook_test(actor=make_actor(org, role), webhook_id=webhook.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(("scope", "allowed"), [("read", False), ("write", False), ("admin", True)])
def test_only_admin_keys_manage_webhooks(org, admin, scope, allowed):
    webhook, _ = webhook_create(actor=admin, url="https://93.184.215.14/x", events=["alert.raised"])
    api = api_as(key=make_key(org, scope))
    listed = api.get("/api/v1/webhooks/")
    assert listed.status_code == (200 if allowed else 403), listed.content
    if not allowed:
        assert "scope 'admin'" in listed.json()["detail"]
    body = {"url": "https://93.184.215.14/y", "events": ["alert.raised"]}
    created = api.post("/api/v1/webhooks/", body, format="json")
    assert created.status_code == (201 if allowed else 403)
    patched = api.patch(f"/api/v1/webhooks/{webhook.pk}/", {"active": False}, format="json")
    assert patched.status_code == (200 if allowed else 403)
    webhook.refresh_from_db()
    assert webhook.active is (not allowed)


@pytest.mark.django_db
def test_another_organizations_webhook_is_a_404(admin, other_admin):
    theirs, _ = webhook_create(
        actor=other_admin, url="https://93.184.215.14/theirs", events=["alert.raised"]
    )
    before = Webhook.objects.for_organization(other_admin.organization).values().get()
    api = api_as(admin)
    for method, path, body in [
        ("get", f"/api/v1/webhooks/{theirs.pk}/", None),
        ("patch", f"/api/v1/webhooks/{theirs.pk}/", {"active": False}),
        ("delete", f"/api/v1/webhooks/{theirs.pk}/", None),
        ("post", f"/api/v1/webhooks/{theirs.pk}/test/", None),
        ("get", f"/api/v1/webhooks/{theirs.pk}/deliveries/", None),
    ]:
        response = getattr(api, method)(path, body, format="json")
        assert response.status_code == 404, (method, path, response.content)
    assert api.get("/api/v1/webhooks/").json()["count"] == 0
    assert Webhook.objects.for_organization(other_admin.organization).values().get() == before
    assert not rows(other_admin.organization).exists()


@pytest.mark.django_db
def test_the_test_button_and_the_delivery_log(
    admin, hook, receiver, django_capture_on_commit_callbacks, django_assert_num_queries
):
    api = api_as(key=make_key(admin.organization, "admin"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/webhooks/{hook.pk}/test/")
    assert response.status_code == 202, response.content
    [request] = receiver.requests
    body = verify(hook.plain_secret, request)
    assert body["type"] == "webhook.test" and body["data"]["webhook"] == hook.pk
    assert request["headers"]["webhook-id"] == response.json()["id"]
    # A failing test is tried once: logged, not retried, not counted.
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/webhooks/{hook.pk}/test/")
    assert rows(admin.organization).filter(status="done").count() == 2
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0
    log = api.get(f"/api/v1/webhooks/{hook.pk}/deliveries/", {"page_size": 1})
    assert log.status_code == 200
    page = log.json()
    assert page["count"] == 2 and page["next"] and len(page["results"]) == 1
    latest = page["results"][0]
    assert (latest["event_type"], latest["status_code"], latest["attempt"]) == (
        "webhook.test",
        500,
        1,
    )
    assert latest["error"].startswith("HTTP 500") and latest["duration_ms"] >= 0
    # The log's cost does not grow with its length.
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"/api/v1/webhooks/{hook.pk}/test/")
    with django_assert_num_queries(5):  # key, its last use, the webhook, count, page
        assert len(api.get(f"/api/v1/webhooks/{hook.pk}/deliveries/").json()["results"]) == 7


@pytest.mark.django_db
def test_a_deleted_endpoint_gets_nothing_more(
    admin, hook, receiver, django_capture_on_commit_callbacks
):
    webhook_emit(organization=admin.organization, type="project.created", data={})  # waits
    api = api_as(admin)
    assert api.delete(f"/api/v1/webhooks/{hook.pk}/").status_code == 204
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)):
        outbox_flush_due_across_organizations()
    assert receiver.requests == []
    assert rows(admin.organization).get().status == "done"
