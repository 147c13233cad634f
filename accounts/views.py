import csv
import json

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.forms import AuditFilterForm, EmailAuthenticationForm
from accounts.middleware import SESSION_KEY
from accounts.models import Role
from accounts.permissions import Perm
from accounts.selectors import audit_list, memberships_for_user
from accounts.web import csv_cell, org_view, paginate, wants_partial

# Where each role starts its day when the login page was not given a `next`.
LANDING = {Role.EXECUTIVE: "dashboard", Role.PROJECT_MANAGER: "my_projects"}


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        membership = memberships_for_user(user=self.request.user).first()
        name = LANDING.get(membership.role) if membership else None
        return resolve_url(name) if name else super().get_default_redirect_url()


class LogoutView(auth_views.LogoutView):
    pass


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("organization", "")
    membership = next((m for m in request.memberships if m.organization.slug == slug), None)
    if membership is None:
        messages.error(request, "You are not a member of that organization.")
    else:
        request.session[SESSION_KEY] = membership.organization_id
        messages.success(request, f"Now working in {membership.organization.name}.")
    # Ids in the current URL belong to the old organization: go home unless told otherwise.
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


AUDIT_PAGE_SIZE = 50
AUDIT_CSV_COLUMNS = [
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "changes",
    "reason",
]


@org_view
def audit_log(request: HttpRequest) -> HttpResponse:
    """The organization's audit log (admins and executives): who changed what, before and
    after, and why; filtered, paginated, exportable as CSV."""
    request.actor.require(Perm.AUDIT_READ)
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_list(organization=request.organization, **filters)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        writer = csv.writer(response)
        writer.writerow(AUDIT_CSV_COLUMNS)
        for e in events.iterator(chunk_size=500):
            writer.writerow(
                [
                    csv_cell(v)
                    for v in (
                        e.at.isoformat(),
                        e.actor_label,
                        e.action,
                        e.object_type,
                        e.object_id,
                        e.object_repr,
                        json.dumps(e.changes, sort_keys=True),
                        e.reason,
                    )
                ]
            )
        return response
    context = {"form": form, "page": paginate(request, events, per_page=AUDIT_PAGE_SIZE)}
    if wants_partial(request, "results"):
        return render(request, "accounts/_audit_results.html", context)
    return render(request, "accounts/audit_log.html", context)
