"""CSV export of every v1 list: `GET /api/v1/<resource>/?format=csv` (or `Accept: text/csv`).

The export is the JSON list without its pages: the same filters (django-filter, `ordering`),
the same scoping and the same columns, one per field of the list's serializer. A nested
object or list is one cell holding its JSON text (`components`, `cadence_days`, `reasons`);
every cell goes through `accounts.web.csv_cell` (the formula guard). It needs
`Perm.EXPORT` (admins, executives, API keys).

It streams: the rows are read with `QuerySet.iterator()` in batches of `CSV_BATCH_SIZE`,
each batch rendered by the list's serializer at once (its related rows come with the
queryset's `select_related`), so the queries grow with batches, never with rows, and the
memory holds one batch. A DRF renderer cannot stream, so `CsvListMixin` (in the base of
every resource, `OrganizationViewSet`) answers the list action itself; the renderer only
lets content negotiation accept `csv` on lists (anything else keeps answering 404/406).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from django.db.models import QuerySet
from drf_spectacular.openapi import AutoSchema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from accounts.permissions import Perm
from accounts.web import csv_response

CSV_MEDIA_TYPE = "text/csv"
CSV_BATCH_SIZE = 500


class CsvRenderer(BaseRenderer):
    """Accepts `?format=csv` / `Accept: text/csv` on a list. The rows never come through
    here (the list streams them); an error answer is switched to JSON before rendering."""

    media_type = CSV_MEDIA_TYPE
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


def serializer_columns(serializer) -> list[str]:
    """The JSON keys of one row: the serializer's readable fields, in order."""
    return [name for name, field in serializer.fields.items() if not field.write_only]


def batches(objects: Iterable, size: int = CSV_BATCH_SIZE) -> Iterator[list]:
    """A queryset read with a database cursor in chunks of `size`; anything else as is."""
    rows = objects.iterator(chunk_size=size) if isinstance(objects, QuerySet) else iter(objects)
    while batch := list(islice(rows, size)):
        yield batch


def serialized_rows(
    objects: Iterable, *, columns: list[str], render, size: int = CSV_BATCH_SIZE
) -> Iterator[list]:
    """Each object's JSON row (`render(batch)` gives the batch's dicts) as a list of cells."""
    for batch in batches(objects, size):
        for row in render(batch):
            yield [row.get(name) for name in columns]


class CsvListMixin:
    """Every list of the v1 API also answers CSV (see the module docstring).

    A list whose JSON rows are not `get_serializer(objects, many=True).data` of the filtered
    queryset overrides `list_data` (how a batch becomes rows) and/or `csv_objects` (what is
    listed), and its JSON `list` uses the same hooks."""

    csv_batch_size = CSV_BATCH_SIZE
    # The actions that list: `list`, and a detail's own list (a project's timeline), which
    # then names itself here and answers `csv_objects` for that action.
    csv_actions: frozenset[str] | set[str] = frozenset({"list"})

    @property
    def csv_requested(self) -> bool:
        return self.action in self.csv_actions and isinstance(
            getattr(self.request, "accepted_renderer", None), CsvRenderer
        )

    def get_renderers(self):
        renderers = super().get_renderers()
        if self.action in self.csv_actions:
            renderers.append(CsvRenderer())
        return renderers

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # negotiation, authentication, READ
        if self.csv_requested:
            self.actor.require(Perm.EXPORT)
            # DRF bound the list to GET (and HEAD) for this request; the export takes its place.
            for method in ("get", "head"):
                setattr(self, method, self.csv_list)

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and isinstance(
            getattr(request, "accepted_renderer", None), CsvRenderer
        ):
            # Only an error gets here as a Response on a CSV request: errors are JSON.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def csv_objects(self) -> Iterable:
        """What the list lists: the filtered, ordered queryset (not yet read)."""
        return self.filter_queryset(self.get_queryset())

    def list_data(self, objects) -> list[dict]:
        """The JSON rows of some listed objects (one page, or one batch of the export)."""
        return self.get_serializer(objects, many=True).data

    def csv_resource(self) -> str:
        """The file's name: the list's path under the API (`clients`, `projects-7-pm-suggestions`)."""
        return self.request.path.split("/api/v1/", 1)[-1].strip("/").replace("/", "-")

    def csv_list(self, request, *args, **kwargs):
        objects = self.csv_objects()  # filters are checked here: a bad one is a 400 JSON
        columns = serializer_columns(self.get_serializer())
        return csv_response(
            resource=self.csv_resource(),
            organization=self.organization,
            header=columns,
            rows=serialized_rows(
                objects, columns=columns, render=self.list_data, size=self.csv_batch_size
            ),
        )


def serializer_csv_response(request, *, resource: str, objects, serializer_class):
    """A browser list's export with its API resource's columns (`objects`: the page's
    filtered queryset, all pages). Needs `Perm.EXPORT`; a role without it gets the 403 page."""
    request.actor.require(Perm.EXPORT)
    context = {"request": request}
    columns = serializer_columns(serializer_class(context=context))
    return csv_response(
        resource=resource,
        organization=request.organization,
        header=columns,
        rows=serialized_rows(
            objects,
            columns=columns,
            render=lambda batch: serializer_class(batch, many=True, context=context).data,
        ),
    )


FORMAT_PARAMETER = {
    "in": "query",
    "name": "format",
    "required": False,
    "schema": {"type": "string", "enum": ["json", "csv"]},
    "description": (
        "`csv`: the whole filtered list (no pages) as a streamed CSV download with one "
        "column per field (nested objects as JSON text; a cell starting with =, +, -, @, tab "
        "or carriage return is prefixed with '). Same as `Accept: text/csv`. Needs the "
        "export permission (admins, executives, API keys)."
    ),
}


class OrganizationSchema(AutoSchema):
    """The v1 schema: every list documents `format` and its `text/csv` answer."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        action = getattr(self.view, "action", None)
        if operation is None or method != "GET" or action not in self.view.csv_actions:
            return operation
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name") == "format" for p in parameters):
            parameters.append(FORMAT_PARAMETER)
        ok = operation.get("responses", {}).get("200")
        if ok is not None:
            ok.setdefault("content", {})[CSV_MEDIA_TYPE] = {
                "schema": {
                    "type": "string",
                    "description": "CSV: a header row, then one row per item.",
                }
            }
        return operation
