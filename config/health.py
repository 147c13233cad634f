"""Health endpoints for load balancers and orchestrators (SPEC Part 2, "Operations").

`GET /healthz`: 200 while the process runs; touches nothing else.
`GET /readyz`: 200 when the database answers and (when `REDIS_URL` is set) the broker does,
else 503; the JSON says which one failed, e.g. `{"status": "unavailable", "database": "ok",
"broker": "unreachable: ConnectionError"}` (the error's class only: the details, which name
hosts and ports, go to the log).

No login, no data. `HealthCheckMiddleware` is the first middleware, so a probe is answered
before the HTTPS redirect, the host check (a probe's Host is often the container's address),
sessions, CSRF, authentication and the organization and second-factor redirects; and it
writes no request log line (probes come every few seconds). Checks use short timeouts: a
closed port fails at once, a silent host within `READYZ_TIMEOUT` seconds (broker) or the
database's `connect_timeout`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connections
from django.http import JsonResponse

log = logging.getLogger(__name__)
PATHS = {"/healthz", "/healthz/", "/readyz", "/readyz/"}


def healthz(request=None) -> JsonResponse:
    return _response({"status": "ok"}, 200)


def readyz(request=None) -> JsonResponse:
    checks = {"database": check_database()}
    if settings.REDIS_URL:
        checks["broker"] = check_broker(settings.REDIS_URL)
    ok = all(value == "ok" for value in checks.values())
    return _response({"status": "ok" if ok else "unavailable", **checks}, 200 if ok else 503)


def check_database(alias: str = "default") -> str:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        # Django closes a connection that failed when the request ends (request_finished).
        log.warning("readyz: the database does not answer: %s", error)
        return f"unreachable: {type(error).__name__}"
    return "ok"


def check_broker(url: str) -> str:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    timeout = getattr(settings, "READYZ_TIMEOUT", 1.0)
    client = redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )
    try:
        client.ping()
    except Exception as error:
        log.warning("readyz: the broker does not answer: %s", error)
        return f"unreachable: {type(error).__name__}"
    finally:
        client.close()
    return "ok"


def _response(body: dict, status: int) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers GET/HEAD /healthz and /readyz before any other middleware runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in PATHS and request.method in {"GET", "HEAD"}:
            return readyz() if request.path.startswith("/readyz") else healthz()
        return self.get_response(request)
