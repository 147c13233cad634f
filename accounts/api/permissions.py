"""Permission and pagination defaults: kept apart from the views because DRF imports them
while it loads its own settings."""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.pagination import PageNumberPagination

from accounts.api_auth import ApiKeyPrincipal
from accounts.models import ApiKey
from accounts.permissions import Actor, Perm


def resolve_actor(request) -> Actor | None:
    """The organization comes from the key, or (session) from the user's active membership."""
    if isinstance(request.auth, ApiKey):
        return Actor.for_api_key(request.auth)
    membership = getattr(request._request, "membership", None)
    if membership is not None and request.user and request.user.is_authenticated:
        return Actor.from_membership(membership)
    return None


class OrganizationPermission(permissions.BasePermission):
    """Reads need membership (or any key); writes need a role or key scope that can do the
    action at all. Object-level rules (a PM's own projects) are the services' to enforce."""

    message = "Your role does not allow this action."

    def _perm_for(self, request, view) -> Perm:
        if request.method in permissions.SAFE_METHODS:
            return Perm.READ
        return view.write_perms.get(view.action, Perm.DELETE if view.action == "destroy" else None)

    def has_permission(self, request, view) -> bool:
        if isinstance(request.user, ApiKeyPrincipal) is False and not (
            request.user and request.user.is_authenticated
        ):
            return False
        actor = view.actor
        if actor is None:
            self.message = "You are not a member of any organization."
            return False
        if view.detail_action:
            return True  # checked after the lookup, so another organization's id is a 404
        return self._check(actor, request, view)

    def has_object_permission(self, request, view, obj) -> bool:
        return self._check(view.actor, request, view)

    def _check(self, actor: Actor, request, view) -> bool:
        perm = self._perm_for(request, view)
        if perm is None or not actor.may(perm):
            if actor.api_key_id is not None and request.method not in permissions.SAFE_METHODS:
                self.message = (
                    "This API key is read-only."
                    if actor.api_key_scope == "read"
                    else "API keys cannot do this."
                )
            return False
        return True


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
