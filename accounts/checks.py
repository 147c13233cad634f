"""The project's own deploy checks (`manage.py check --deploy`): with DEBUG off, a deployment
must send its e-mail (survey links carry their raw tokens: the console backend would print
them into the logs) and link to its own public HTTPS address."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

CONSOLE_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


@register(Tags.security, deploy=True)
def production_delivery(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    errors = []
    if settings.EMAIL_BACKEND in CONSOLE_BACKENDS:
        errors.append(
            Error(
                "E-mail goes nowhere (or into the logs, with survey links and their tokens).",
                hint="Set DJANGO_EMAIL_BACKEND (e.g. django.core.mail.backends.smtp.EmailBackend)"
                " and its EMAIL_* settings.",
                id="cdmo.E001",
            )
        )
    if not settings.SITE_URL.startswith("https://") or "127.0.0.1" in settings.SITE_URL:
        errors.append(
            Error(
                f"DJANGO_SITE_URL is {settings.SITE_URL!r}: e-mailed links would not reach the app.",
                hint="Set DJANGO_SITE_URL to the public https:// address of the deployment.",
                id="cdmo.E002",
            )
        )
    return errors
