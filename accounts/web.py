"""Request plumbing every browser view shares: the organization and actor resolved once, a
service called with a form's input, pagination, streamed CSV exports and the htmx partial
test. Every app's views import it from here; no app imports another app's views."""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from accounts.errors import DomainError, PermissionDeniedError
from accounts.permissions import Actor
from accounts.tenancy import organization_scope

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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet never runs as a formula: text with a leading =, +, -, @, tab
    or carriage return gets a ' (SPEC, "CSV import and export").

    A value is written as the JSON API shows it: None is empty, booleans are true/false, a
    nested object or list is its JSON text (and guarded like any text). A number is no
    formula: it is written as is, so a negative figure stays a number."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, dict | list | tuple):
        text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """csv.writer's file: hands each written line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


CSV_CHUNK_CHARS = 64 * 1024


def csv_lines(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The header, then every row through `csv_cell`, in chunks of about 64 KB."""
    writer = csv.writer(_Echo())
    chunk = [writer.writerow(list(header))]
    size = len(chunk[0])
    for row in rows:
        line = writer.writerow([csv_cell(v) for v in row])
        chunk.append(line)
        size += len(line)
        if size >= CSV_CHUNK_CHARS:
            yield "".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield "".join(chunk)


def csv_filename(resource: str, organization) -> str:
    return f"{resource}-{organization.slug}-{timezone.now().date().isoformat()}.csv"


def csv_response(
    *, resource: str, organization, header: Iterable[str], rows: Iterable[Iterable]
) -> StreamingHttpResponse:
    """A streamed CSV download (`<resource>-<org slug>-<date>.csv`): `rows` is read (and its
    queries run) while the response is sent, in the organization's scope, so row-level
    security shows the rows however the request got its scope (a session or an API key)."""

    def scoped() -> Iterator[str]:
        with organization_scope(organization):
            yield from csv_lines(header, rows)

    response = StreamingHttpResponse(scoped(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{csv_filename(resource, organization)}"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


def wants_csv(request: HttpRequest) -> bool:
    """A browser list asked for its CSV export (`?format=csv`)."""
    return request.GET.get("format") == "csv"
