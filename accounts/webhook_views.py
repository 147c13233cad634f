"""The webhooks page (admins): endpoints, the secret shown once, edit, delete, a test
event, the delivery log and re-enabling a disabled endpoint. The same services as the API
(`accounts.webhooks`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import Perm
from accounts.web import org_view, paginate, submit, wants_partial
from accounts.webhook_forms import WebhookEditForm, WebhookForm
from accounts.webhooks import (
    webhook_create,
    webhook_delete,
    webhook_deliveries,
    webhook_enable,
    webhook_get,
    webhook_list,
    webhook_test,
    webhook_update,
)


def _list_page(request: HttpRequest, *, form=None) -> HttpResponse:
    context = {
        "page": paginate(request, webhook_list(organization=request.organization)),
        "form": form or WebhookForm(),
    }
    if wants_partial(request, "results"):
        return render(request, "accounts/webhooks/_results.html", context)
    return render(request, "accounts/webhooks/list.html", context)


@org_view
def webhooks(request: HttpRequest) -> HttpResponse:
    """The organization's endpoints: URL, events, state, failures in a row."""
    request.actor.require(Perm.WEBHOOKS_MANAGE)
    return _list_page(request)


@org_view
@require_POST
def webhook_new(request: HttpRequest) -> HttpResponse:
    """Register an endpoint and show its secret once, on this response only."""
    request.actor.require(Perm.WEBHOOKS_MANAGE)
    form = WebhookForm(request.POST)
    result = None
    if form.is_valid():
        result = submit(form, webhook_create, actor=request.actor, **form.cleaned_data)
    if result is None:
        return _list_page(request, form=form)
    webhook, secret = result
    response = render(
        request, "accounts/webhooks/created.html", {"webhook": webhook, "secret": secret}
    )
    response["Cache-Control"] = "no-store"
    return response


def _detail_page(request: HttpRequest, webhook, *, form=None) -> HttpResponse:
    context = {
        "webhook": webhook,
        "page": paginate(
            request, webhook_deliveries(organization=request.organization, webhook=webhook)
        ),
        "form": form
        or WebhookEditForm(
            initial={
                "url": webhook.url,
                "events": webhook.events,
                "description": webhook.description,
                "active": webhook.active and webhook.disabled_at is None,
            }
        ),
    }
    if wants_partial(request, "results"):
        return render(request, "accounts/webhooks/_deliveries.html", context)
    return render(request, "accounts/webhooks/detail.html", context)


@org_view
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One endpoint: edit it (POST), its state and why, its delivery log."""
    request.actor.require(Perm.WEBHOOKS_MANAGE)
    webhook = webhook_get(organization=request.organization, webhook_id=pk)
    if request.method != "POST":
        return _detail_page(request, webhook)
    form = WebhookEditForm(request.POST)
    if form.is_valid():
        done = submit(
            form, webhook_update, actor=request.actor, webhook_id=webhook.pk, **form.cleaned_data
        )
        if done is not None:
            messages.success(request, "Endpoint saved.")
            return redirect("accounts:webhook_detail", pk=webhook.pk)
    webhook.refresh_from_db()
    return _detail_page(request, webhook, form=form)


@org_view
@require_POST
def webhook_test_send(request: HttpRequest, pk: int) -> HttpResponse:
    request.actor.require(Perm.WEBHOOKS_MANAGE)
    webhook = webhook_get(organization=request.organization, webhook_id=pk)
    event = webhook_test(actor=request.actor, webhook_id=webhook.pk)
    messages.success(
        request, f"Test event {event['id']} sent (once); its result is in the log below."
    )
    return redirect("accounts:webhook_detail", pk=webhook.pk)


@org_view
@require_POST
def webhook_enable_page(request: HttpRequest, pk: int) -> HttpResponse:
    request.actor.require(Perm.WEBHOOKS_MANAGE)
    webhook = webhook_get(organization=request.organization, webhook_id=pk)
    webhook_enable(actor=request.actor, webhook_id=webhook.pk)
    messages.success(request, "Endpoint re-enabled: new events are sent to it again.")
    return redirect("accounts:webhook_detail", pk=webhook.pk)


@org_view
def webhook_delete_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (GET), then delete (POST): no more events, the log goes with it."""
    request.actor.require(Perm.WEBHOOKS_MANAGE)
    webhook = webhook_get(organization=request.organization, webhook_id=pk)
    if request.method == "POST":
        webhook_delete(actor=request.actor, webhook_id=webhook.pk)
        messages.success(request, f"The endpoint {webhook.url} is deleted.")
        return redirect("accounts:webhooks")
    return render(request, "accounts/webhooks/delete.html", {"webhook": webhook})
