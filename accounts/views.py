from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.forms import EmailAuthenticationForm
from accounts.middleware import SESSION_KEY
from accounts.models import Role
from accounts.selectors import memberships_for_user

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
