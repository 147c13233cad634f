"""Browser views. Thin: resolve the organization, call selectors/services, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from journey.models import Phase
from journey.selectors import client_list, project_list, project_phase_counts


@login_required
@vary_on_headers("HX-Request")
def home(request: HttpRequest) -> HttpResponse:
    org = request.organization
    if org is None:
        return render(request, "journey/no_organization.html", status=403)
    counts = project_phase_counts(organization=org)
    context = {
        "phase_counts": [(Phase(p).label, n) for p, n in counts.items()],
        "client_count": client_list(organization=org).count(),
        "recent_projects": list(project_list(organization=org)[:10]),
    }
    return render(request, "journey/home.html", context)
