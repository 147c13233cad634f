"""The browser's CSV import: choose a kind and upload, see the preview (row count, first rows,
every problem with its row and column, a page at a time) before anything is written, then
"Write N rows". The file waits server-side on its import job (tenant-scoped, expiring); the
check and the write run as Celery tasks through the outbox (in process without a broker),
and the page polls their progress with htmx."""

from __future__ import annotations

import csv

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.errors import DomainError
from accounts.permissions import Perm
from accounts.web import add_domain_error, org_view, wants_partial
from journey.imports.kinds import KINDS, template_csv_rows
from journey.imports.services import (
    MAX_BYTES,
    file_size,
    import_job_confirm,
    import_job_create,
    import_job_get,
    import_job_progress,
)
from journey.models import ImportJob

PROBLEMS_PER_PAGE = 50


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k.name, k.label) for k in KINDS.values()])
    file = forms.FileField(
        help_text=f"A CSV file, UTF-8, comma or semicolon separated, up to {file_size(MAX_BYTES)}."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {file_size(upload.size)}; the limit is {file_size(MAX_BYTES)}. "
                "Split it into smaller files."
            )
        return upload


@org_view
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    actor.require(Perm.IMPORT)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_job_create(
                actor=actor,
                kind=form.cleaned_data["kind"],
                filename=upload.name or "",
                content=upload.read(),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return redirect("import_job", job_id=job.pk)
    recent = (
        ImportJob.objects.for_organization(request.organization)
        .defer("content", "problems", "preview")
        .select_related("created_by")[:10]
    )
    return render(
        request,
        "journey/import/start.html",
        {"form": form, "kinds": KINDS.values(), "recent": recent, "max_size": file_size(MAX_BYTES)},
    )


@org_view
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    request.actor.require(Perm.IMPORT)
    spec = KINDS.get(kind)
    if spec is None:
        return render(request, "404.html", status=404)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{spec.name}-template.csv"'
    csv.writer(response).writerows(template_csv_rows(spec))
    return response


def _job_context(request: HttpRequest, job: ImportJob) -> dict:
    done = import_job_progress(job)
    total = job.row_count
    page = Paginator(job.problems, PROBLEMS_PER_PAGE).get_page(request.GET.get("page"))
    preview = job.preview or {}
    return {
        "job": job,
        "kind": KINDS.get(job.kind),
        "progress_done": done,
        "progress_pct": int(100 * done / total) if total else 0,
        "problems": page,
        "preview_header": preview.get("header", []),
        "preview_rows": preview.get("rows", []),
        "shown_problems": len(job.problems),
    }


@org_view
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's page: progress while it runs, then the preview (or the result)."""
    request.actor.require(Perm.IMPORT)
    job = import_job_get(organization=request.organization, job_id=job_id)
    context = _job_context(request, job)
    if wants_partial(request, "import-status"):
        response = render(request, "journey/import/_status.html", context)
        if not job.is_running:
            response["HX-Refresh"] = "true"  # the step ended: the whole page changes
        return response
    if wants_partial(request, "problems"):
        return render(request, "journey/import/_problems.html", context)
    return render(request, "journey/import/job.html", context)


@org_view
@require_POST
def import_job_write(request: HttpRequest, job_id: int) -> HttpResponse:
    request.actor.require(Perm.IMPORT)
    job = import_job_get(organization=request.organization, job_id=job_id)
    try:
        import_job_confirm(actor=request.actor, job_id=job.pk)
    except DomainError as exc:
        context = _job_context(request, job)
        context["write_error"] = exc.message
        return render(request, "journey/import/job.html", context, status=400)
    return redirect(reverse("import_job", args=[job.pk]))
