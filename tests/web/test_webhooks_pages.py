"""The webhooks page (admins): list, create with the secret shown once, edit, delete, the
test button and the delivery log, a disabled endpoint's reason and re-enabling it; other
roles 403, another organization's endpoint 404; bad input inline, nothing changed."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, Webhook, WebhookDelivery
from accounts.webhooks import webhook_create


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    got: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(self.rfile.read(int(self.headers.get("content-length", 0))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/in"
    server.got = got
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def hook(admin):
    return webhook_create(actor=admin, url="https://93.184.215.14/in", events=["alert.raised"])[0]


@pytest.mark.django_db
def test_admin_creates_an_endpoint_and_sees_the_secret_once(admin, login):
    client = login(admin)
    page = client.get(reverse("accounts:webhooks"))
    assert page.status_code == 200 and b"No webhook yet" in page.content
    response = client.post(
        reverse("accounts:webhook_new"),
        {
            "url": "https://93.184.215.14/hooks",
            "events": ["project.created", "feedback.received"],
            "description": "ERP",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    webhook = Webhook.objects.for_organization(admin.organization).get()
    assert webhook.events == ["project.created", "feedback.received"]
    assert webhook.secret.encode() in response.content
    # Never again: not on the list, not on the endpoint's page.
    listed = client.get(reverse("accounts:webhooks"))
    assert (
        webhook.secret.encode() not in listed.content and b"93.184.215.14/hooks" in listed.content
    )
    detail = client.get(reverse("accounts:webhook_detail", args=[webhook.pk]))
    assert detail.status_code == 200 and webhook.secret.encode() not in detail.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "http://127.0.0.1:8000/x", "events": ["alert.raised"]}, b"public addresses only"),
        ({"url": "http://169.254.169.254/", "events": ["alert.raised"]}, b"link-local"),
        ({"url": "ftp://93.184.215.14/x", "events": ["alert.raised"]}, b"https:// or http://"),
        ({"url": "https://93.184.215.14/x"}, b"Choose at least one event."),
    ],
)
def test_bad_input_is_shown_inline_and_changes_nothing(admin, login, settings, data, message):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = login(admin).post(reverse("accounts:webhook_new"), data)
    assert response.status_code == 200
    assert message in response.content and b'class="error"' in response.content
    assert not Webhook.objects.for_organization(admin.organization).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [Role.EXECUTIVE, Role.ACCOUNT_MANAGER, Role.PROJECT_MANAGER, Role.VIEWER]
)
def test_only_admins_see_the_page(org, admin, make_actor, login, role, hook):
    client = login(make_actor(org, role))
    assert client.get(reverse("accounts:webhooks")).status_code == 403
    assert client.get(reverse("accounts:webhook_detail", args=[hook.pk])).status_code == 403
    posted = client.post(
        reverse("accounts:webhook_new"),
        {"url": "https://93.184.215.14/y", "events": ["alert.raised"]},
    )
    assert posted.status_code == 403
    assert client.post(reverse("accounts:webhook_delete", args=[hook.pk])).status_code == 403
    assert Webhook.objects.for_organization(org).count() == 1


@pytest.mark.django_db
def test_another_organizations_endpoint_is_a_404(admin, other_admin, login):
    theirs = webhook_create(
        actor=other_admin, url="https://93.184.215.14/theirs", events=["alert.raised"]
    )[0]
    client = login(admin)
    for name, method in [
        ("accounts:webhook_detail", "get"),
        ("accounts:webhook_detail", "post"),
        ("accounts:webhook_test", "post"),
        ("accounts:webhook_enable", "post"),
        ("accounts:webhook_delete", "get"),
        ("accounts:webhook_delete", "post"),
    ]:
        response = getattr(client, method)(reverse(name, args=[theirs.pk]))
        assert response.status_code == 404, (name, method)
    theirs_after = Webhook.objects.for_organization(other_admin.organization).get()
    assert theirs_after.updated_at == theirs.updated_at
    assert not WebhookDelivery.objects.for_organization(other_admin.organization).exists()


@pytest.mark.django_db
def test_edit_events_and_active(admin, login, hook):
    client = login(admin)
    url = reverse("accounts:webhook_detail", args=[hook.pk])
    response = client.post(
        url, {"url": hook.url, "events": ["project.transition"], "description": "moves"}
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.events == ["project.transition"] and hook.active is False
    bad = client.post(url, {"url": hook.url, "events": ["nope"], "active": "on"})
    assert bad.status_code == 200 and b"nope" in bad.content
    hook.refresh_from_db()
    assert hook.events == ["project.transition"] and hook.active is False


@pytest.mark.django_db
def test_send_test_and_the_delivery_log(
    admin, login, receiver, django_capture_on_commit_callbacks, django_assert_num_queries
):
    hook = webhook_create(actor=admin, url=receiver.url, events=["alert.raised"])[0]
    client = login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:webhook_test", args=[hook.pk]))
    assert response.status_code == 302
    assert len(receiver.got) == 1 and b'"type":"webhook.test"' in receiver.got[0]
    page = client.get(reverse("accounts:webhook_detail", args=[hook.pk]))
    assert b"webhook.test" in page.content and b"status-completed" in page.content
    # The page's cost does not grow with the log: one row or thirty (a page of 25 shown).
    url = reverse("accounts:webhook_detail", args=[hook.pk])
    client.get(url)  # warm the session and the per-process caches
    with django_assert_num_queries(8) as one:
        client.get(url)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            organization=admin.organization,
            webhook=hook,
            event_id=f"msg_{n}",
            event_type="alert.raised",
            attempt=1,
            status_code=500,
            error="HTTP 500",
            at=timezone.now(),
        )
        for n in range(30)
    )
    with django_assert_num_queries(len(one.captured_queries)):
        many = client.get(url)
    assert many.content.count(b"data-delivery=") == 25 and b"Page 1 of 2" in many.content
    partial = client.get(url, {"page": 2}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert partial.content.count(b"data-delivery=") == 6 and b"<html" not in partial.content


@pytest.mark.django_db
def test_a_disabled_endpoint_shows_why_and_is_re_enabled(admin, login, hook):
    Webhook.objects.for_organization(admin.organization).filter(pk=hook.pk).update(
        disabled_at=timezone.now(),
        disabled_reason="Disabled after 5 events in a row failed. Last error: HTTP 503",
        consecutive_failures=5,
    )
    client = login(admin)
    page = client.get(reverse("accounts:webhook_detail", args=[hook.pk]))
    assert b'data-testid="disabled-reason"' in page.content and b"HTTP 503" in page.content
    listed = client.get(reverse("accounts:webhooks"))
    assert b'data-testid="webhook-disabled"' in listed.content
    response = client.post(reverse("accounts:webhook_enable", args=[hook.pk]))
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.disabled_at, hook.disabled_reason, hook.consecutive_failures) == (None, "", 0)
    assert hook.active


@pytest.mark.django_db
def test_delete_confirms_then_deletes(admin, login, hook):
    client = login(admin)
    confirm = client.get(reverse("accounts:webhook_delete", args=[hook.pk]))
    assert confirm.status_code == 200 and b"Delete the endpoint" in confirm.content
    assert Webhook.objects.for_organization(admin.organization).exists()
    response = client.post(reverse("accounts:webhook_delete", args=[hook.pk]))
    assert response.status_code == 302
    assert not Webhook.objects.for_organization(admin.organization).exists()
