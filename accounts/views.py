import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from accounts import two_factor
from accounts.audit_display import audit_present
from accounts.errors import DomainError, PermissionDeniedError
from accounts.forms import (
    ApiKeyForm,
    AuditFilterForm,
    EmailAuthenticationForm,
    InvitationSignupForm,
    InviteForm,
    RoleForm,
)
from accounts.middleware import SESSION_KEY
from accounts.models import Role, User
from accounts.permissions import Perm
from accounts.selectors import (
    api_key_get,
    api_key_list,
    audit_list,
    invitation_pending_list,
    member_list,
    membership_get,
    memberships_for_user,
)
from accounts.services import (
    InvitationState,
    api_key_create,
    api_key_revoke,
    invitation_accept,
    invitation_create,
    invitation_lookup,
    invitation_revoke,
    membership_change_role,
    membership_remove,
)
from accounts.web import (
    add_domain_error,
    csv_response,
    org_view,
    paginate,
    submit,
    wants_csv,
    wants_partial,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# Where each role starts its day when the login page was not given a `next`.
LANDING = {Role.EXECUTIVE: "dashboard", Role.PROJECT_MANAGER: "my_projects"}


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        membership = next(iter(memberships_for_user(user=self.request.user)), None)
        name = LANDING.get(membership.role) if membership else None
        return resolve_url(name) if name else super().get_default_redirect_url()

    def form_valid(self, form):
        """The password was right (django-axes counted the attempts). A user with an
        authenticator still owes the second step before any page opens."""
        response = super().form_valid(form)
        if two_factor.session_two_factor_start(self.request, form.get_user()):
            query = urlencode({"next": response.url})
            return redirect(f"{reverse('accounts:login_verify')}?{query}")
        return response


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
CSV_CHUNK_ROWS = 500  # rows a CSV export reads per database round trip
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
    if wants_csv(request):
        request.actor.require(Perm.EXPORT)
        rows = (
            (
                e.at.isoformat(),
                e.actor_label,
                e.action,
                e.object_type,
                e.object_id,
                e.object_repr,
                json.dumps(e.changes, sort_keys=True),
                e.reason,
            )
            for e in events.iterator(chunk_size=CSV_CHUNK_ROWS)
        )
        return csv_response(
            resource="audit-log",
            organization=request.organization,
            header=AUDIT_CSV_COLUMNS,
            rows=rows,
        )
    page = paginate(request, events, per_page=AUDIT_PAGE_SIZE)
    # Each change labelled the way the History cards show it (`partials/_audit_changes.html`).
    page.object_list = audit_present(list(page.object_list), organization=request.organization)
    context = {"form": form, "page": page, "can_export": request.actor.may(Perm.EXPORT)}
    if wants_partial(request, "results"):
        return render(request, "accounts/_audit_results.html", context)
    return render(request, "accounts/audit_log.html", context)


# --- Members and invitations (admins) -------------------------------------------------------
PENDING_INVITATIONS_SHOWN = 50


def _members_page(request: HttpRequest, *, invite_form=None, error: str = "") -> HttpResponse:
    organization = request.organization
    pending = invitation_pending_list(organization=organization, now=timezone.now())
    context = {
        "page": paginate(request, member_list(organization=organization)),
        "can_export_csv": request.actor.may(Perm.EXPORT),
        "invitations": pending[:PENDING_INVITATIONS_SHOWN],
        "invite_form": invite_form or InviteForm(),
        "roles": Role.choices,
        "error": error,
    }
    if wants_partial(request, "results"):
        return render(request, "accounts/members/_results.html", context)
    return render(request, "accounts/members/list.html", context)


@org_view
def members(request: HttpRequest) -> HttpResponse:
    """The organization's members and pending invitations: invite, change roles, remove."""
    request.actor.require(Perm.MEMBERS_MANAGE)
    if wants_csv(request):
        return _members_csv(request)
    return _members_page(request)


MEMBERS_CSV_COLUMNS = ["name", "email", "role", "joined"]


def _members_csv(request: HttpRequest) -> HttpResponse:
    """The People table, all pages: the columns the page shows."""
    request.actor.require(Perm.EXPORT)
    rows = (
        (m.user.full_name, m.user.email, m.role, m.created_at.isoformat())
        for m in member_list(organization=request.organization).iterator(chunk_size=CSV_CHUNK_ROWS)
    )
    return csv_response(
        resource="members",
        organization=request.organization,
        header=MEMBERS_CSV_COLUMNS,
        rows=rows,
    )


@org_view
@require_POST
def member_invite(request: HttpRequest) -> HttpResponse:
    request.actor.require(Perm.MEMBERS_MANAGE)
    form = InviteForm(request.POST)
    if form.is_valid() and submit(
        form, invitation_create, actor=request.actor, **form.cleaned_data
    ):
        messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
        return redirect("accounts:members")
    return _members_page(request, invite_form=form)


@org_view
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    request.actor.require(Perm.MEMBERS_MANAGE)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _members_page(request, error="Choose one of the roles.")
    try:
        membership = membership_change_role(
            actor=request.actor, membership_id=pk, role=form.cleaned_data["role"]
        )
    except PermissionDeniedError:
        raise
    except DomainError as exc:
        return _members_page(request, error=exc.message)
    messages.success(
        request, f"{membership.user.email} is now {membership.get_role_display().lower()}."
    )
    if membership.user_id == request.user.pk and membership.role != Role.ADMIN:
        return redirect("home")  # no longer an admin: the members page is not theirs
    return redirect("accounts:members")


@org_view
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (GET), then remove (POST); never the organization's last admin."""
    request.actor.require(Perm.MEMBERS_MANAGE)
    membership = membership_get(organization=request.organization, membership_id=pk)
    error = ""
    if request.method == "POST":
        try:
            membership_remove(actor=request.actor, membership_id=pk)
        except PermissionDeniedError:
            raise
        except DomainError as exc:
            error = exc.message
        else:
            if membership.user_id == request.user.pk:
                request.session.pop(SESSION_KEY, None)
                messages.success(request, f"You left {request.organization.name}.")
                return redirect("home")
            messages.success(
                request, f"{membership.user.email} is no longer a member of this organization."
            )
            return redirect("accounts:members")
    return render(
        request,
        "accounts/members/remove.html",
        {"member": membership, "error": error, "is_self": membership.user_id == request.user.pk},
    )


@org_view
@require_POST
def member_invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    request.actor.require(Perm.MEMBERS_MANAGE)
    try:
        invitation = invitation_revoke(actor=request.actor, invitation_id=pk)
    except PermissionDeniedError:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    return redirect("accounts:members")


# --- Accepting an invitation (public: the link's token is the credential) --------------------
INVITATION_CLOSED_STATUS = {"unknown": 404, "expired": 410, "used": 410, "revoked": 410}


def _token_page(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: keep it out of Referer headers, search engines and caches.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _invitation_closed(request: HttpRequest, state: InvitationState) -> HttpResponse:
    return _token_page(
        render(
            request,
            "accounts/invitation_closed.html",
            {"status": state.status},
            status=INVITATION_CLOSED_STATUS[state.status],
        )
    )


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def invitation_accept_page(request: HttpRequest, token: str) -> HttpResponse:
    """Where an invitation's link leads: a new person sets a name and password; someone
    with an account logs in as the invited e-mail and confirms. Then they are a member and
    working in that organization."""
    state = invitation_lookup(token=token)
    if state.status != "open":
        return _invitation_closed(request, state)
    invitation = state.invitation
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        mode = "confirm" if user.email.lower() == invitation.email.lower() else "wrong_user"
    else:
        has_account = User.objects.filter(email__iexact=invitation.email).exists()
        mode = "login" if has_account else "signup"
    form = InvitationSignupForm(request.POST or None) if mode == "signup" else None
    error = ""
    submitted = request.method == "POST" and mode in ("confirm", "signup")
    if submitted and (form is None or form.is_valid()):
        data = form.service_data() if form is not None else {}
        try:
            membership = invitation_accept(token=token, user=user, **data)
        except DomainError as exc:
            if exc.code in INVITATION_CLOSED_STATUS:  # used or withdrawn a moment ago
                return _invitation_closed(request, invitation_lookup(token=token))
            if form is not None and exc.field in form.fields:
                add_domain_error(form, exc)
            else:
                error = exc.message
        else:
            if user is None:
                login(request, membership.user, backend=MODEL_BACKEND)
            request.session[SESSION_KEY] = membership.organization_id
            messages.success(
                request,
                f"Welcome to {membership.organization.name}: you are "
                f"{membership.get_role_display().lower()} here.",
            )
            return redirect("home")
    context = {"invitation": invitation, "mode": mode, "form": form, "error": error}
    return _token_page(render(request, "accounts/invitation_accept.html", context))


# --- API keys (admins) ----------------------------------------------------------------------
def _api_keys_page(request: HttpRequest, *, form=None) -> HttpResponse:
    context = {
        "page": paginate(request, api_key_list(organization=request.organization)),
        "can_export_csv": request.actor.may(Perm.EXPORT),
        "form": form or ApiKeyForm(organization=request.organization),
        "now": timezone.now(),
    }
    if wants_partial(request, "results"):
        return render(request, "accounts/api_keys/_results.html", context)
    return render(request, "accounts/api_keys/list.html", context)


@org_view
def api_keys(request: HttpRequest) -> HttpResponse:
    """The organization's API keys: name, scope, who made it, last use, expiry, status."""
    request.actor.require(Perm.API_KEYS_MANAGE)
    if wants_csv(request):
        return _api_keys_csv(request)
    return _api_keys_page(request)


API_KEYS_CSV_COLUMNS = [
    "name",
    "scope",
    "status",
    "created_at",
    "created_by",
    "last_used_at",
    "expires_at",
]


def _api_keys_csv(request: HttpRequest) -> HttpResponse:
    """The keys table, all pages: the columns the page shows (never a secret)."""
    request.actor.require(Perm.EXPORT)
    now = timezone.now()

    def status(key) -> str:
        if key.revoked_at:
            return "revoked"
        return "expired" if key.expires_at and key.expires_at <= now else "active"

    def when(value):
        return value.isoformat() if value else None

    rows = (
        (
            key.name,
            key.scope,
            status(key),
            when(key.created_at),
            key.created_by.email if key.created_by else "",
            when(key.last_used_at),
            when(key.expires_at),
        )
        for key in api_key_list(organization=request.organization).iterator(
            chunk_size=CSV_CHUNK_ROWS
        )
    )
    return csv_response(
        resource="api-keys",
        organization=request.organization,
        header=API_KEYS_CSV_COLUMNS,
        rows=rows,
    )


@org_view
@require_POST
def api_key_new(request: HttpRequest) -> HttpResponse:
    """Create a key and show it once, on this response only: it is not stored, not put in a
    URL or the session, and the response is not cached."""
    request.actor.require(Perm.API_KEYS_MANAGE)
    form = ApiKeyForm(request.POST, organization=request.organization)
    result = None
    if form.is_valid():
        result = submit(form, api_key_create, actor=request.actor, **form.service_data())
    if result is None:
        return _api_keys_page(request, form=form)
    key, raw = result
    response = render(request, "accounts/api_keys/created.html", {"key": key, "raw": raw})
    response["Cache-Control"] = "no-store"
    return response


@org_view
def api_key_revoke_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (GET), then revoke (POST): the key stops working at once."""
    request.actor.require(Perm.API_KEYS_MANAGE)
    key = api_key_get(organization=request.organization, api_key_id=pk)
    if request.method == "POST":
        api_key_revoke(actor=request.actor, api_key_id=key.pk)
        messages.success(request, f"The key '{key.name}' is revoked: it no longer works.")
        return redirect("accounts:api_keys")
    return render(request, "accounts/api_keys/revoke.html", {"key": key})
