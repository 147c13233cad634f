"""The domain's error types. Services raise these; the API and forms render them."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request. Rendered as a 400 with `field: [message]`.

    `field` names the input at fault (None for the request as a whole, rendered under
    `non_field_errors`); `code` is a stable machine-readable slug.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [self.message]}


class PermissionDeniedError(DomainError):
    """The actor's role may not do this in this organization (403)."""

    def __init__(self, message: str = "Your role does not allow this action."):
        super().__init__(message, field=None, code="permission_denied")
