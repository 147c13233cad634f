"""Request plumbing every browser view shares: the organization and actor resolved once, a
service called with a form's input, pagination and the htmx partial test. Every app's views
import it from here; no app imports another app's views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from accounts.errors import DomainError, PermissionDeniedError
from accounts.permissions import Actor

PAGE_SIZE = 25


def org_view(view):
    """Logged in, a member of the active organization; `request.actor` set once.

    A role that may not do something gets a 403 page; another organization's id is a 404
    (the selectors raise it), exactly like a missing one.
    """

    @login_required
    @vary_on_headers("HX-Request")
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.organization is None:
            return render(request, "no_organization.html", status=403)
        request.actor = Actor.from_membership(request.membership)
        try:
            return view(request, *args, **kwargs)
        except PermissionDeniedError as exc:
            return render(request, "403.html", {"message": exc.message}, status=403)

    return wrapper


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the field it names (or above the form). A form that
    places errors its own way defines `add_service_error`."""
    if hasattr(form, "add_service_error"):
        form.add_service_error(exc)
        return
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def submit(form: forms.Form, service, /, **kwargs):
    """Call a service with a form's input. Its refusal (a `DomainError`) lands on the form
    and None comes back; a role's refusal is no form error: it propagates to a 403."""
    try:
        return service(**kwargs)
    except PermissionDeniedError:
        raise
    except DomainError as exc:
        add_domain_error(form, exc)
        return None


def form_page(
    request: HttpRequest,
    form: forms.Form,
    service,
    /,
    *,
    template: str,
    context: dict,
    done: Callable[[Any], tuple[str, HttpResponse]],
    **service_kwargs: Any,
) -> HttpResponse:
    """The create/edit page of a resource: a valid POST goes to the service with the form's
    `service_data()` (or cleaned data); on success `done(result)` gives the message and the
    redirect, otherwise the page renders again with the form's (or the service's) errors."""
    if request.method == "POST" and form.is_valid():
        data = form.service_data() if hasattr(form, "service_data") else form.cleaned_data
        result = submit(form, service, **service_kwargs, **data)
        if result is not None:
            message, response = done(result)
            messages.success(request, message)
            return response
    return render(request, template, {"form": form, **context})


def paginate(request: HttpRequest, queryset: QuerySet, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def wants_partial(request: HttpRequest, target: str) -> bool:
    return bool(request.htmx) and request.htmx.target == target and not request.htmx.boosted


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet never runs as a formula: a leading =, +, -, @, tab or
    carriage return gets a ' (SPEC, "CSV import and export")."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
