"""The deployment files against the settings: docker-compose.yml, .env.example, Dockerfile.

A new `env.*("NAME")` in config/settings/base.py without a line in .env.example fails here;
so does a compose file whose app services would not pass `manage.py check --deploy`.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("web", "worker", "beat")
ENV_EXAMPLE = (BASE_DIR / ".env.example").read_text()
# What a production deployment must set (config/settings/base.py and accounts/checks.py):
# the secret, the hosts, the database as the app role and the owner, the broker, the public
# address, real e-mail, the TLS proxy, DEBUG off.
REQUIRED = {
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "REDIS_URL",
    "DJANGO_SITE_URL",
    "DJANGO_EMAIL_BACKEND",
    "DJANGO_EMAIL_HOST",
    "DJANGO_BEHIND_TLS_PROXY",
    "DJANGO_DEBUG",
}


def settings_env_names() -> set[str]:
    source = (BASE_DIR / "config/settings/base.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))


def env_example(*, commented: bool) -> dict[str, str]:
    """The names in .env.example: set ones, or (commented=True) documented defaults too."""
    pattern = r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$" if commented else r"^([A-Z][A-Z0-9_]*)=(.*)$"
    return dict(re.findall(pattern, ENV_EXAMPLE, flags=re.MULTILINE))


def command(service: str) -> str:
    value = SERVICES[service]["command"]
    return " ".join(value) if isinstance(value, list) else value


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME:?message} and $$."""

    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        found = variables.get(name, "")
        if op == ":?" and not found:
            raise KeyError(f"{name}: {arg}")
        if op == ":-" and not found:
            return arg
        return found

    value = re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:[-?])([^}]*))?\}", one, str(value))
    return value.replace("$$", "$")


def service_env(service: str, variables: dict[str, str]) -> dict[str, str]:
    """A container's environment: the env file (.env from .env.example), then `environment`."""
    env = dict(variables) if SERVICES[service].get("env_file") else {}
    for name, value in SERVICES[service].get("environment", {}).items():
        env[name] = interpolate(value, variables)
    return env


def filled_env_file() -> dict[str, str]:
    """.env.example as an operator fills it in."""
    variables = env_example(commented=False)
    variables.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        POSTGRES_PASSWORD="owner-pw",
        CDMO_APP_PASSWORD="app-pw",
        DJANGO_EMAIL_HOST_USER="journey",
        DJANGO_EMAIL_HOST_PASSWORD="smtp-pw",
    )
    return variables


# --- docker-compose.yml ----------------------------------------------------------------------
def test_the_services():
    assert set(SERVICES) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert "gunicorn config.wsgi:application" in command("web")
    assert "--config python:config.gunicorn" in command("web")
    assert command("worker").startswith("celery -A config worker")
    assert command("beat").startswith("celery -A config beat")
    assert command("migrate") == "python manage.py migrate --noinput"
    assert SERVICES["migrate"]["restart"] == "no"
    redis = command("redis")
    assert "--appendonly yes" in redis
    assert any(v.endswith(":/data") for v in SERVICES["redis"]["volumes"])


def test_start_order():
    for name in LONG_RUNNING:
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["db"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}
    assert SERVICES["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_health_checks():
    for name in ("db", "redis", *LONG_RUNNING):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(SERVICES["db"]["healthcheck"]["test"])
    assert "ping" in " ".join(SERVICES["worker"]["healthcheck"]["test"])


def test_the_app_connects_as_the_app_role_and_migrates_as_the_owner():
    variables = filled_env_file()
    db = SERVICES["db"]["environment"]
    owner = db["POSTGRES_USER"]
    init = [v for v in SERVICES["db"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert len(init) == 1
    script = (BASE_DIR / init[0].split(":")[0]).read_text()
    assert re.search(r"CREATE ROLE cdmo_app LOGIN NOSUPERUSER NOBYPASSRLS", script)
    for name in APP_SERVICES:
        env = service_env(name, variables)
        assert env["DATABASE_URL"].startswith("postgres://cdmo_app:app-pw@db:5432/"), name
        assert env["DATABASE_OWNER_URL"].startswith(f"postgres://{owner}:owner-pw@db:5432/")
        assert env["REDIS_URL"] == "redis://redis:6379/0"


def test_every_setting_production_requires_reaches_every_app_service():
    variables = filled_env_file()
    for name in APP_SERVICES:
        env = service_env(name, variables)
        missing = {v for v in REQUIRED if not env.get(v)}
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert env["DJANGO_DEBUG"] == "0"
        assert env["DJANGO_SITE_URL"].startswith("https://")


def test_compose_refuses_to_start_without_the_secrets():
    variables = filled_env_file()
    for name in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "CDMO_APP_PASSWORD"):
        assert env_example(commented=False)[name] == ""  # the example ships none
        with pytest.raises(KeyError, match=name):
            service_env("web", {**variables, name: ""})


def _deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only the container's environment (plus what Python needs to run here).
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_web_service_passes_the_deploy_check():
    env = service_env("web", filled_env_file())
    done = _deploy_check(env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
    # And the check does fail on a deployment that would print e-mails (with tokens).
    done = _deploy_check(
        {**env, "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
    assert done.returncode != 0 and "cdmo.E001" in done.stderr


# --- .env.example ----------------------------------------------------------------------------
def test_env_example_documents_every_setting():
    names = settings_env_names()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= names  # the parser works
    missing = names - set(env_example(commented=True))
    assert not missing, f"add these to .env.example (and README 'Environment'): {sorted(missing)}"


def test_env_example_covers_what_production_requires():
    documented = env_example(commented=True)
    set_there = env_example(commented=False)
    assert set(documented) >= REQUIRED
    for name in ("DJANGO_ALLOWED_HOSTS", "DJANGO_SITE_URL", "DJANGO_EMAIL_BACKEND"):
        assert set_there[name], name
    assert "console" not in set_there["DJANGO_EMAIL_BACKEND"]


# --- Dockerfile ------------------------------------------------------------------------------
def test_the_image_installs_from_pyproject_only():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    installs = re.findall(r"pip install ([^\n\\&]*)", dockerfile)
    assert installs
    for args in installs:
        assert [a for a in args.split() if not a.startswith("-")] == ["."], args
    pyproject = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())
    pins = {re.split(r"[<>=\[]", d)[0].lower(): d for d in pyproject["project"]["dependencies"]}
    assert re.search(r"gunicorn>=[\d.]+,<[\d.]+", pins["gunicorn"])
    assert re.search(r"structlog>=[\d.]+,<[\d.]+", pins["structlog"])
    assert "npm ci" in dockerfile  # front-end libraries from the lock file
    assert '"python:config.gunicorn"' in dockerfile


def test_make_serve_runs_the_supervisor():
    makefile = (BASE_DIR / "Makefile").read_text()
    target = re.search(r"^serve:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert target and "bin/serve" in target.group(1)
