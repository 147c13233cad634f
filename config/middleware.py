"""Request plumbing for operations: the request id, the request's log line, the version.

`RequestContextMiddleware` (early in MIDDLEWARE, after SecurityMiddleware and WhiteNoise):
- takes the request id from an incoming `X-Request-ID` when it is well formed (1-64 letters,
  digits, `-`, `_`, `.`; a proxy's or load balancer's id), else makes one; sends it back as
  the `X-Request-ID` response header and binds it to every log line of the request;
- logs one `request_finished` line per request (method, masked path, route name, status,
  duration, user id, organization slug); user and organization are added to every log line
  as soon as the later middleware (or the API-key authentication) has found them;
- sets `X-App-Version` on every `/api/` response.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog

from config.logs import current_request, mask_url
from config.version import version_label

log = structlog.get_logger("config.request")
REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")


def request_id_from(request) -> str:
    incoming = request.headers.get("X-Request-ID", "")
    return incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request)
        request.request_id = request_id
        started = time.monotonic()
        request_token = current_request.set(request)
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                response = self.get_response(request)
                match = getattr(request, "resolver_match", None)
                status = response.status_code
                level = "error" if status >= 500 else "warning" if status >= 400 else "info"
                getattr(log, level)(
                    "request_finished",
                    method=request.method,
                    path=mask_url(request.get_full_path()),
                    route=match.view_name if match else None,
                    status=status,
                    duration_ms=round((time.monotonic() - started) * 1000, 1),
                )
            finally:
                current_request.reset(request_token)
        response["X-Request-ID"] = request_id
        if request.path.startswith("/api/"):
            response["X-App-Version"] = version_label()
        return response
