"""Resolves the active organization once per request (session choice, else the first)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.models import Role
from accounts.selectors import memberships_for_user
from accounts.tenancy import all_organizations_dangerously, organization_scope

SESSION_KEY = "active_organization_id"


class ActiveOrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        request.membership = None
        request.memberships = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = memberships_for_user(user=user)
            request.memberships = memberships
            wanted = request.session.get(SESSION_KEY)
            chosen = next((m for m in memberships if m.organization_id == wanted), None)
            if chosen is None and memberships:
                chosen = memberships[0]
                request.session[SESSION_KEY] = chosen.organization_id
            if chosen is not None:
                request.membership = chosen
                request.organization = chosen.organization
        if user is not None and user.is_staff and request.path.startswith(ADMIN_PREFIX):
            # The Django admin is for operators (staff), across organizations.
            with all_organizations_dangerously("the Django admin, for staff"):
                return self.get_response(request)
        # Row-level security shows this organization's rows only (none without one), for the
        # whole request, including a streamed response read after this returns.
        with organization_scope(request.organization):
            response = self.get_response(request)
        if getattr(response, "streaming", False):
            response.streaming_content = _scoped(request.organization, response.streaming_content)
        return response


ADMIN_PREFIX = "/admin/"


def _scoped(organization, chunks):
    with organization_scope(organization):
        yield from chunks


class TwoFactorMiddleware:
    """The second login step and the organization's "admins must use 2FA" rule.

    A session that owes its second step reaches only the verify and logout pages; an admin
    of an organization that requires 2FA and has none reaches only the Security pages. The
    API answers such a session with a 403 JSON; API keys are not sessions and pass.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from accounts import two_factor

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return self.get_response(request)
        if request.path.startswith("/api/") and request.headers.get("Authorization"):
            return self.get_response(request)  # an API key: DRF authenticates it
        if two_factor.session_two_factor_pending(request):
            return self._refuse(
                request,
                allowed=("accounts:login_verify", "accounts:logout"),
                target="accounts:login_verify",
                message="Enter the code from your authenticator app to finish logging in.",
            )
        membership = request.membership
        if (
            membership is not None
            and membership.role == Role.ADMIN
            and membership.organization.require_admin_two_factor
        ):
            if two_factor.user_has_two_factor(user=user):  # set up, e.g. by an operator
                request.session[two_factor.STATE_SESSION_KEY] = two_factor.PENDING
                return self.__call__(request)
            return self._refuse(
                request,
                allowed=("accounts:logout",),
                allowed_prefix=reverse("accounts:security"),
                target="accounts:security",
                message=(
                    f"{membership.organization.name} requires admins to use two-factor "
                    "authentication: set it up to continue."
                ),
            )
        return self.get_response(request)

    def _refuse(self, request, *, allowed, target, message, allowed_prefix=None):
        if request.path in {reverse(name) for name in allowed} or (
            allowed_prefix and request.path.startswith(allowed_prefix)
        ):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "two_factor_required"}, status=403)
        url = reverse(target)
        if request.method == "GET" and not request.headers.get("HX-Request"):
            url += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
