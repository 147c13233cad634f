"""Logs: JSON lines in production, readable lines in development (structlog over logging).

Every line carries `time`, `level`, `logger` and `event`; in a web request also `request_id`,
`user_id` and `organization` (the slug) once they are known (config/middleware.py); in a
Celery task `task_id`, `task` and `organization_id`. Any line written while an organization's
scope is entered (accounts.tenancy) carries that `organization_id`.

Never logged: passwords, API keys, tokens, e-mail bodies. Keys with such names are replaced
by "[redacted]"; URLs in any line have their secret parts masked (the survey link's token,
an invitation's token, a password-reset link's token, and any path segment that looks like
a token, plus query values named like secrets), in Django's and gunicorn's lines too.

`DJANGO_LOG_FORMAT`: `json` (default when DEBUG is off) or `console` (default with DEBUG on).
"""

from __future__ import annotations

import logging
import re
import time
from contextvars import ContextVar
from typing import Any

import structlog
from django.utils.functional import empty

# --- Redaction -------------------------------------------------------------------------------
REDACTED = "[redacted]"
SECRET_KEYS = re.compile(
    r"(?:.*_)?(?:password|passwd|secret|token|key|api_key|authorization|cookie|otp|signature|"
    r"body|backup_codes?)",
    re.IGNORECASE,
)
# Paths whose remaining segments are credentials: the e-mailed survey link, an invitation, a
# password-reset link. Anything after the prefix up to whitespace, a quote, "?" or "#".
_SECRET_PATH = re.compile(
    r"(/survey/|/accounts/invitations/|/accounts/password/reset/(?!done/|complete/))"
    r"[^\s\"'?#]+"
)
# Any other path segment that looks like a token: long, URL-safe, not a plain word or number.
_TOKEN_SEGMENT = re.compile(
    r"(?<=/)(?=[A-Za-z0-9_\-.~%:]*\d)[A-Za-z0-9_\-.~%:]{24,}(?=/|\?|#|\s|\"|$)"
)
# Query values of parameters named like secrets.
_SECRET_QUERY = re.compile(
    r"([?&](?:[A-Za-z_]*(?:token|key|secret|password|signature|sig|code)[A-Za-z_]*)=)[^&#\s\"']*",
    re.IGNORECASE,
)


def mask_url(text: str) -> str:
    """The text with every secret part of the URLs in it replaced."""
    if "/" not in text and "=" not in text:
        return text
    text = _SECRET_PATH.sub(lambda m: m.group(1) + REDACTED + "/", text)
    text = _TOKEN_SEGMENT.sub(REDACTED, text)
    return _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


def redact(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: secret-named keys dropped to "[redacted]", URLs masked."""
    for key, value in list(event_dict.items()):
        if key.startswith("_"):
            continue
        if key != "event" and SECRET_KEYS.fullmatch(key):
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = mask_url(value)
    return event_dict


def add_scope(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the organization whose scope is entered (a request, a task, a
    command), when it is one organization."""
    if "organization_id" not in event_dict:
        try:
            from accounts.tenancy import current_scope

            scope = current_scope()
        except Exception:  # settings not ready (early start-up lines)
            scope = None
        if isinstance(scope, int):
            event_dict["organization_id"] = scope
    return event_dict


# The request being answered (set by config.middleware.RequestContextMiddleware).
current_request: ContextVar[Any] = ContextVar("cdmo_log_request", default=None)


def identity(request) -> dict[str, Any]:
    """The user id and organization slug once known, without loading anything."""
    found: dict[str, Any] = {}
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)  # a SimpleLazyObject not yet evaluated: empty
    if wrapped is not None and wrapped is not empty and getattr(wrapped, "is_authenticated", False):
        if getattr(wrapped, "pk", None) is not None:
            found["user_id"] = wrapped.pk
        key = getattr(wrapped, "key", None)  # an API key's principal (accounts.api_auth)
        if key is not None:
            found["api_key_id"] = key.pk
            found["organization"] = key.organization.slug
            found["organization_id"] = key.organization_id
    organization = request.__dict__.get("organization")
    if organization is not None:
        found["organization"] = organization.slug
        found["organization_id"] = organization.pk
    return found


def add_request(_logger: Any, _method: str, event_dict: dict[str, Any]):
    """structlog processor: the current request's user and organization."""
    request = current_request.get()
    if request is not None:
        for key, value in identity(request).items():
            event_dict.setdefault(key, value)
    return event_dict


def _drop_color_message(_logger: Any, _method: str, event_dict: dict[str, Any]):
    event_dict.pop("color_message", None)
    return event_dict


SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.PositionalArgumentsFormatter(),
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
    add_request,
    add_scope,
    _drop_color_message,
    redact,
]


def default_format(debug: bool) -> str:
    return "console" if debug else "json"


def _first_keys(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """time, level, logger and event lead each line; the rest follows as bound."""
    ordered = {
        k: event_dict.pop(k) for k in ("time", "level", "logger", "event") if k in event_dict
    }
    ordered.update(event_dict)
    return ordered


def formatter(fmt: str = "json") -> logging.Formatter:
    """The formatter of every handler: JSON lines or readable console lines."""
    if fmt not in {"json", "console"}:
        raise ValueError(f"DJANGO_LOG_FORMAT must be 'json' or 'console', not {fmt!r}")
    renderer = (
        [structlog.processors.format_exc_info, _first_keys, structlog.processors.JSONRenderer()]
        if fmt == "json"
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        foreign_pre_chain=SHARED_PROCESSORS,
    )


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    """The `LOGGING` dict (and gunicorn's `logconfig_dict`): one stderr handler."""
    formatter(fmt)  # refuses an unknown format at start-up
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": "config.logs.formatter", "fmt": fmt}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # gunicorn's own lines (start-up, worker restarts) in the same format; its access
            # log stays off: the app's "request_finished" line is the access log.
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # runserver's access lines (development).
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def structlog_configure() -> None:
    structlog.configure(
        processors=[*SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


# --- Celery tasks ---------------------------------------------------------------------------
task_log = structlog.get_logger("config.tasks")
_bound: dict[str, tuple[dict, float]] = {}
REQUEST_ID_HEADER = "cdmo_request_id"


def _task_publish(headers=None, **_extra) -> None:
    """A task published during a request carries its request id to the worker."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id and headers is not None:
        headers[REQUEST_ID_HEADER] = request_id


def _task_prerun(task_id=None, task=None, kwargs=None, **_extra) -> None:
    context: dict[str, Any] = {"task_id": task_id, "task": getattr(task, "name", None)}
    organization_id = (kwargs or {}).get("organization_id")
    if organization_id is not None:
        context["organization_id"] = organization_id
    request_id = getattr(getattr(task, "request", None), REQUEST_ID_HEADER, None)
    if request_id:
        context["request_id"] = request_id
    # Bound for the task and reset after it: an eager task (inside a request) leaves the
    # request's own context as it found it.
    tokens = structlog.contextvars.bind_contextvars(**context)
    _bound[task_id] = (tokens, time.monotonic())
    task_log.info("task_started")


def _task_postrun(task_id=None, state=None, **_extra) -> None:
    tokens, started = _bound.pop(task_id, (None, None))
    if started is not None:
        task_log.info(
            "task_finished", state=state, duration_ms=round((time.monotonic() - started) * 1000)
        )
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)


def connect_celery() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_task_publish, dispatch_uid="config.logs.publish", weak=False)
    task_prerun.connect(_task_prerun, dispatch_uid="config.logs.prerun", weak=False)
    task_postrun.connect(_task_postrun, dispatch_uid="config.logs.postrun", weak=False)
