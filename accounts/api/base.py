"""What every API view shares: the organization resolved once, role checks, errors, paging."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.api.csv_export import CsvListMixin, OrganizationSchema
from accounts.api.parsers import BodyTooLarge
from accounts.api.permissions import OrganizationPermission, resolve_actor
from accounts.errors import DomainError, PermissionDeniedError
from accounts.permissions import Actor, Perm


class OrganizationViewSet(CsvListMixin, viewsets.GenericViewSet):
    """Base of every v1 resource. Subclasses name their selector and write permissions and
    never touch scoping themselves. Every list also answers `?format=csv` (`CsvListMixin`)."""

    permission_classes = [OrganizationPermission]
    schema = OrganizationSchema()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    write_perms: dict[str, Perm] = {}
    detail_actions = {"retrieve", "partial_update", "update", "destroy"}

    @property
    def actor(self) -> Actor | None:
        if not hasattr(self, "_actor"):
            self._actor = resolve_actor(self.request)
        return self._actor

    @property
    def organization(self):
        return self.actor.organization

    @property
    def detail_action(self) -> bool:
        return self.action in self.detail_actions or bool(getattr(self, "detail", False))

    def lookup(self, pk):
        raise NotImplementedError

    def get_object(self):
        obj = self.lookup(self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, obj)
        return obj


def exception_handler(exc, context):
    """One mapping of errors to responses: domain rules 400 (403 for roles), 404 for anything
    outside the organization, and always a JSON object."""
    if isinstance(exc, PermissionDeniedError):
        return Response({"detail": exc.message}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, BodyTooLarge):
        return Response({"non_field_errors": [exc.detail]}, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"non_field_errors": [BodyTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE).detail]},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, exceptions.ParseError):
        return Response(
            {"non_field_errors": [f"Malformed request body: {exc.detail}"]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response
