"""Resolves the active organization once per request (session choice, else the first)."""

from __future__ import annotations

from accounts.selectors import memberships_for_user

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
            memberships = list(memberships_for_user(user=user))
            request.memberships = memberships
            wanted = request.session.get(SESSION_KEY)
            chosen = next((m for m in memberships if m.organization_id == wanted), None)
            if chosen is None and memberships:
                chosen = memberships[0]
                request.session[SESSION_KEY] = chosen.organization_id
            if chosen is not None:
                request.membership = chosen
                request.organization = chosen.organization
        return self.get_response(request)
