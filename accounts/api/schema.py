"""Schema helpers every app's API shares: the documented error answers and the CRUD set."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

ERRORS = {
    400: OpenApiResponse(description="Invalid input: an object of messages per field."),
    401: OpenApiResponse(description="No valid credentials."),
    403: OpenApiResponse(
        description="A read-only key, a role that may not do this, or a user in no organization."
    ),
    404: OpenApiResponse(description="Not found in your organization (or a page past the end)."),
}
READ_ERRORS = {k: ERRORS[k] for k in (401, 403, 404)}


def crud_schema(out, in_, patch_in=None, *, tag: str):
    return extend_schema_view(
        list=extend_schema(tags=[tag], responses={200: out(many=True), **ERRORS}),
        retrieve=extend_schema(tags=[tag], responses={200: out, **READ_ERRORS}),
        create=extend_schema(
            tags=[tag], request=in_, responses={201: out, **{k: ERRORS[k] for k in (400, 401, 403)}}
        ),
        partial_update=extend_schema(
            tags=[tag], request=patch_in or in_, responses={200: out, **ERRORS}
        ),
        # 400: a delete a rule refuses (a client that still has projects).
        destroy=extend_schema(tags=[tag], responses={204: None, **ERRORS}),
    )


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api_auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organization's API key: `Authorization: Bearer cdmo_...`",
        }
