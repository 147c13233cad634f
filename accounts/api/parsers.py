"""The API's JSON parser: a clear 400 for JSON nested too deeply and a 413 for a body larger
than `DATA_UPLOAD_MAX_MEMORY_SIZE`, both as JSON (the exception handler renders them)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class BodyTooLarge(exceptions.APIException):
    """Rendered as `{"non_field_errors": [...]}` by the exception handler, like a 400."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than {limit // 1024} KiB.")


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if limit is not None and length > limit:
            raise BodyTooLarge(limit)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON nested too deeply.") from None
