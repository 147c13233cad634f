"""The executive dashboard (browser): stored figures, the journey funnel, recompute progress."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import Perm
from accounts.web import csv_response, org_view
from metrics import dashboard as dash
from metrics.dashboard import COMPARE_CHART_KEYS, FORMAT
from metrics.models import RESULT_FIELDS
from metrics.selectors import metric_list, metric_run_get
from metrics.services import metrics_recompute_request


def _chart_data(series, comparison) -> dict:
    """What dashboard.js draws; every chart's numbers are also in a table on the page."""
    return {
        "series": {
            s.key: {
                "label": s.label,
                "format": FORMAT.get(s.key),
                "labels": [p["period"] for p in s.points],
                "values": [p["value"] for p in s.points],
                "n": [p["n"] for p in s.points],
            }
            for s in series
        },
        "compare": {
            "labels": [label for _d, _v, label in comparison.columns],
            "datasets": [
                {
                    "label": row["label"],
                    "values": [cell.value for cell in row["cells"]],
                }
                for row in comparison.rows
                if row["key"] in COMPARE_CHART_KEYS
            ],
        },
    }


@org_view
def dashboard(request: HttpRequest) -> HttpResponse:
    org, actor = request.organization, request.actor
    filters = dash.dashboard_filters(request.GET, today=timezone.now().date())
    tiles, series = dash.metric_tiles_and_series(organization=org, filters=filters)
    all_people = request.GET.get("people") == "all"
    comparison, pms, ams = dash.comparison_and_people(
        organization=org, filters=filters, all_people=all_people
    )
    choices = dash.slice_choices(org)
    this_month = timezone.now().strftime("%Y-%m")
    preset = len(filters.months) if filters.period_to == this_month else None
    context = {
        "filters": filters,
        "slice_choices": choices,
        "preset": preset,
        "slice_label": next(
            (
                f"{group}: {label}"
                for group, options in choices
                for value, label in options
                if value == filters.slice
            ),
            filters.value,
        ),
        "tiles": tiles,
        "series": series,
        "comparison": comparison,
        "people_tables": [pms, ams],
        "funnel": dash.journey_funnel(organization=org, filters=filters),
        "chart_data": _chart_data(series, comparison),
        "status": dash.metrics_status(organization=org),
        "has_figures": any(t.figure.value is not None for t in tiles)
        or dash.has_any_figures(organization=org),
        "can_recompute": actor.may(Perm.METRICS_RECOMPUTE),
        "can_export": actor.may(Perm.EXPORT),
    }
    if request.htmx and request.htmx.target == "dash-body":
        return render(request, "metrics/_dashboard_body.html", context)
    return render(request, "metrics/dashboard.html", context)


def _run_response(request: HttpRequest, run) -> HttpResponse:
    response = render(request, "metrics/_run_status.html", {"run": run})
    if run.is_finished:
        # The dashboard body listens for this and reloads its figures.
        response["HX-Trigger"] = "metrics-recomputed"
    return response


@org_view
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    run = metrics_recompute_request(actor=request.actor)
    return _run_response(request, run)


@org_view
def run_status(request: HttpRequest, run_id: int) -> HttpResponse:
    return _run_response(request, metric_run_get(organization=request.organization, run_id=run_id))


EXPORT_FIELDS = [*RESULT_FIELDS, "computed_at"]


@org_view
def export(request: HttpRequest) -> HttpResponse:
    """The stored figures behind the dashboard's current filters, as CSV (executives, admins)."""
    org = request.organization
    request.actor.require(Perm.EXPORT)
    filters = dash.dashboard_filters(request.GET, today=timezone.now().date())
    rows = metric_list(
        organization=org,
        dimension=filters.dimension,
        dimension_value=filters.value,
        period_from=filters.period_from,
        period_to=filters.period_to,
    ).values_list(*EXPORT_FIELDS)
    # Streamed, every cell through the formula guard (a dimension value is a person's e-mail
    # or any segment name); the file is named like every export, its slice and months added.
    return csv_response(
        resource=f"metrics-{filters.dimension}-{filters.period_from}-{filters.period_to}",
        organization=org,
        header=EXPORT_FIELDS,
        rows=(
            [v.isoformat() if hasattr(v, "isoformat") else v for v in row]
            for row in rows.iterator(chunk_size=500)
        ),
    )
