"""Settings come from the environment: database, Celery mode, secret-key guard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.DATABASES['default']['ENGINE'])"
)


def _probe(**env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_DEBUG",
            "DJANGO_SECRET_KEY",
            "DJANGO_ALLOW_DEV_SECRET",
        }
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings.base")
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_embedded_default_is_sqlite_and_eager_celery():
    out = _probe(DJANGO_DEBUG="1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "memory://", "django.db.backends.sqlite3"]


def test_redis_and_postgres_from_the_environment():
    out = _probe(
        DJANGO_DEBUG="1",
        REDIS_URL="redis://127.0.0.1:6379/3",
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "False",
        "redis://127.0.0.1:6379/3",
        "django.db.backends.postgresql",
    ]


def test_production_refuses_the_development_secret():
    out = _probe(DJANGO_DEBUG="0")
    assert out.returncode != 0 and "DJANGO_SECRET_KEY must be set" in out.stderr
    ok = _probe(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="a-real-secret-from-the-vault-0123456789")
    assert ok.returncode == 0, ok.stderr


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite pragmas")
def test_sqlite_runs_in_wal_with_immediate_transactions():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    # 64 characters of several kinds, as `check --deploy` wants of a real key.
    "DJANGO_SECRET_KEY": "Zq8v!2rT#kLm9pWx4sYd7fGh3jKa6nBc1eVu5iOp0tRy8wQe2rTy6uIo4pAs9dFg",
    "DJANGO_ALLOWED_HOSTS": "journey.example",
    "DJANGO_SITE_URL": "https://journey.example",
    "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "DJANGO_BEHIND_TLS_PROXY": "1",
}


def _deploy_check(**env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings.base")
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_variables_pass_the_deploy_check():
    out = _deploy_check(**PRODUCTION)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "cdmo.E001"),
        ({"DJANGO_SITE_URL": "http://127.0.0.1:8000"}, "cdmo.E002"),
    ],
)
def test_the_deploy_check_refuses_logging_survey_links(override, error):
    out = _deploy_check(**{**PRODUCTION, **override})
    assert out.returncode != 0 and error in out.stdout + out.stderr


def test_behind_a_tls_proxy_pages_carry_hsts_and_secure_cookies(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    page = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert page.status_code == 200
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    assert page.cookies["csrftoken"]["secure"]
    assert page["Referrer-Policy"] == "same-origin"


# Run in a fresh process under the production settings themselves (DEBUG off, the variables
# above, behind a TLS proxy): a database is migrated, a member logs in through the login form
# with the CSRF check on, as a browser behind the proxy would; the answers are printed as JSON.
BEHIND_THE_PROXY = r"""
import json, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from accounts.models import Membership, Organization, User

assert not settings.DEBUG
call_command("migrate", verbosity=0)
org = Organization.objects.create(slug="acme", name="Acme CDMO")
user = User.objects.create_user(email="am@acme.example", password="a-long-pass-phrase-42")
Membership.objects.create(user=user, organization=org, role="account_manager")

HOST = "journey.example"
https = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": HOST}
browser = Client(enforce_csrf_checks=True)

def cookie(response, name):
    morsel = response.cookies.get(name)
    return morsel and {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"])}

def page(response):
    return {
        "status": response.status_code,
        "location": response.get("Location"),
        "csp": response.get("Content-Security-Policy"),
        "hsts": response.get("Strict-Transport-Security"),
        "csrftoken": cookie(response, "csrftoken"),
        "sessionid": cookie(response, "sessionid"),
    }

plain = browser.get("/accounts/login/", HTTP_HOST=HOST)
form = browser.get("/accounts/login/", **https)
login = browser.post(
    "/accounts/login/",
    {
        "username": "am@acme.example",
        "password": "a-long-pass-phrase-42",
        "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
    },
    HTTP_ORIGIN="https://" + HOST,
    **https,
)
home = browser.get("/", **https)
print(json.dumps({"plain": page(plain), "form": page(form), "login": page(login),
                  "home": page(home)}))
"""


@pytest.mark.slow  # migrates a fresh database in the subprocess
def test_behind_the_tls_proxy_production_serves_csp_hsts_and_secure_cookies(tmp_path):
    """The issue's check, on the production settings (not overrides): behind the TLS proxy
    the login page and the logged-in home carry the strict CSP and HSTS, the session and
    CSRF cookies are Secure (the session's HttpOnly too); a plain-HTTP request is sent to
    https."""
    import json

    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    clean.update(
        PRODUCTION,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=f"sqlite:///{tmp_path / 'production.sqlite3'}",
    )
    out = subprocess.run(
        [sys.executable, "-c", BEHIND_THE_PROXY],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])

    plain = seen["plain"]
    assert plain["status"] == 301
    assert plain["location"] == "https://journey.example/accounts/login/"

    form, login, home = seen["form"], seen["login"], seen["home"]
    assert form["status"] == 200 and form["csrftoken"] == {"secure": True, "httponly": False}
    assert login["status"] == 302, login  # logged in
    assert login["sessionid"] == {"secure": True, "httponly": True}
    assert home["status"] == 200
    for response in (form, login, home):
        csp = response["csp"]
        assert csp and "script-src 'self'" in csp and "style-src 'self'" in csp, csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response["hsts"].startswith("max-age=31536000"), response
