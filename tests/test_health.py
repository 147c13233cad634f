"""Operations (SPEC Part 2): /healthz and /readyz, JSON logs with request id, organization and
user and without secrets, the version in the footer and on the API, and `make serve`."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from accounts.models import Role
from config.logs import REDACTED, formatter, mask_url
from engagement.tasks import health_refresh_task
from tests.api.conftest import make_key
from tests.factories import MembershipFactory
from tests.processes import free_port, port_open, wait_for

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS_SERVER = shutil.which("redis-server")
VERSION = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture
def redis_url(tmp_path):
    """A redis-server of our own on a free port (stopped at the end)."""
    if REDIS_SERVER is None:
        pytest.skip("needs redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: port_open(port), timeout=20, what="redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def log_lines():
    """Every log line the app writes during the test, rendered as in production (JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def read() -> tuple[str, list[dict]]:
        text = stream.getvalue()
        return text, [json.loads(line) for line in text.splitlines() if line.strip()]

    yield read
    root.removeHandler(handler)
    root.setLevel(level)


# --- /healthz and /readyz --------------------------------------------------------------------
@pytest.mark.django_db
def test_healthz_answers_without_login_or_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


@pytest.mark.django_db
def test_readyz_200_with_the_database_and_the_broker_up(client, redis_url):
    with override_settings(REDIS_URL=redis_url):
        response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_without_redis_url_checks_the_database_only(client):
    with override_settings(REDIS_URL=""):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_readyz_503_fast_when_the_broker_port_is_closed(client):
    closed = free_port()  # bound and released: nothing listens there
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed}/0"):
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["database"] == "ok"
    assert body["broker"].startswith("unreachable: ")
    assert str(closed) not in body["broker"]  # no hosts or ports for anonymous callers
    assert elapsed < 1.5


@pytest.mark.django_db
def test_probes_are_not_redirected_to_https_nor_to_login_or_two_factor(org):
    member = MembershipFactory(organization=org, role=Role.ADMIN)
    org.require_admin_two_factor = True
    org.save(update_fields=["require_admin_two_factor"])
    with override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["app.example"]):
        client = Client()  # its middleware reads these settings
        client.force_login(member.user)
        # Plain HTTP, and a Host the app does not serve (a probe uses the container address).
        assert client.get("/", HTTP_HOST="app.example").status_code == 301
        assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
        assert client.get("/readyz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    with override_settings(SECURE_SSL_REDIRECT=False):
        client = Client()
        client.force_login(member.user)
        # The admin without a second factor is sent to the Security page everywhere else.
        assert client.get("/").status_code == 302
        response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


def _production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_OWNER_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="a-real-secret-for-this-test-only-0123456789",
        DJANGO_ALLOWED_HOSTS="app.example",
        **extra,
    )
    return env


PROBE = """
import json, time, django
django.setup()
from django.test import Client
c = Client()
out = {}
for path in ("/healthz", "/readyz"):
    started = time.monotonic()
    r = c.get(path)
    out[path] = [r.status_code, json.loads(r.content), time.monotonic() - started]
print("RESULT " + json.dumps(out))
"""


def test_readyz_503_fast_when_the_database_is_down():
    """Production settings (HTTPS redirect on, another host), the database at a closed port."""
    closed = free_port()
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=_production_env(DATABASE_URL=f"postgres://app@127.0.0.1:{closed}/cdmo"),
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    status, body, elapsed = result["/healthz"]
    assert status == 200 and body == {"status": "ok"}
    status, body, elapsed = result["/readyz"]
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"] == "unreachable: OperationalError"
    assert "broker" not in body  # no REDIS_URL
    assert elapsed < 1.5
    # The log says what failed, in JSON.
    warning = next(json.loads(x) for x in done.stderr.splitlines() if "readyz" in x)
    assert warning["level"] == "warning" and "database" in warning["event"]


# --- Logs ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_request_log_line_has_request_id_organization_and_user(client, org, log_lines):
    member = MembershipFactory(organization=org, role=Role.ADMIN)
    client.force_login(member.user)
    response = client.get("/", HTTP_X_REQUEST_ID="lb-7f3a.9")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-7f3a.9"
    _, lines = log_lines()
    line = next(x for x in lines if x["event"] == "request_finished")
    assert line["request_id"] == "lb-7f3a.9"
    assert line["user_id"] == member.user.pk
    assert line["organization"] == "alpha"
    assert line["organization_id"] == org.pk
    assert line["status"] == 200 and line["route"] == "home" and line["method"] == "GET"
    assert line["level"] == "info" and line["logger"] == "config.request"
    assert line["time"].endswith("Z")
    assert list(line)[:4] == ["time", "level", "logger", "event"]


@pytest.mark.django_db
def test_a_malformed_request_id_is_replaced(client, log_lines):
    for bad in ("has space", "x" * 65, "new\nline", "<script>"):
        response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=bad)
        assert response["X-Request-ID"] != bad
        assert len(response["X-Request-ID"]) == 32
    text, lines = log_lines()
    ids = {x["request_id"] for x in lines if x["event"] == "request_finished"}
    assert len(ids) == 4 and "<script>" not in text


@pytest.mark.django_db
def test_logs_carry_no_password_key_or_token(client, org, log_lines):
    MembershipFactory(organization=org, role=Role.ADMIN, user__email="ana@alpha.example")
    password = "Wrong-Horse-Battery-991"
    client.post("/accounts/login/", {"username": "ana@alpha.example", "password": password})
    key = make_key(org, "read")
    response = client.get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    survey_token = f"{org.public_id}.Zk3mQ9vX2pL8rT5wY1bN7cD4fG6hJ0kA_sE-uI2oP9q"
    client.get(f"/survey/{survey_token}/")
    invitation = f"inv_{org.public_id}_Yq81LmZtR4vB7nKc2XpW9sD3fH6jG0aE-uT5oI1yN8m"
    client.get(f"/accounts/invitations/{invitation}/")
    client.get("/accounts/password/reset/MQ/cxkq3b-4f5e6d7c8b9a0f1e2d3c4b5a69788796/")
    text, lines = log_lines()
    for secret in (password, key, key.split("_")[-1], survey_token, invitation, "cxkq3b-4f5e6d"):
        assert secret not in text
    paths = [x["path"] for x in lines if x["event"] == "request_finished"]
    assert f"/survey/{REDACTED}/" in paths
    assert f"/accounts/invitations/{REDACTED}/" in paths
    api = next(x for x in lines if x.get("path") == "/api/v1/clients/")
    assert api["organization"] == "alpha" and api["api_key_id"] and "user_id" not in api


def test_mask_url():
    token = "Zk3mQ9vX2pL8rT5wY1bN7cD4fG6hJ0kA_sE-uI2oP9q"
    assert mask_url(f"/survey/{token}/") == f"/survey/{REDACTED}/"
    assert (
        mask_url(f'"GET /survey/{token}/ HTTP/1.1" 200')
        == f'"GET /survey/{REDACTED}/ HTTP/1.1" 200'
    )
    assert mask_url(f"/other/{token}/edit/") == f"/other/{REDACTED}/edit/"
    assert mask_url("/projects/42/?phase=plan&token=abc&api_key=k") == (
        f"/projects/42/?phase=plan&token={REDACTED}&api_key={REDACTED}"
    )
    assert mask_url("/accounts/password/reset/done/") == "/accounts/password/reset/done/"
    assert mask_url("/clients/sterile-fill-finish/") == "/clients/sterile-fill-finish/"


@pytest.mark.django_db
def test_a_task_log_line_has_task_id_and_organization(org, log_lines):
    result = health_refresh_task.apply(kwargs={"organization_id": org.pk, "client_ids": []})
    _, lines = log_lines()
    started = next(x for x in lines if x["event"] == "task_started")
    finished = next(x for x in lines if x["event"] == "task_finished")
    assert started["task_id"] == result.id == finished["task_id"]
    assert started["organization_id"] == org.pk
    assert started["task"] == "engagement.tasks.health_refresh_task"
    assert finished["state"] == "SUCCESS"


@pytest.mark.django_db
def test_an_eager_task_keeps_its_requests_context(org, log_lines):
    import structlog

    with structlog.contextvars.bound_contextvars(request_id="req-1"):
        health_refresh_task.apply(kwargs={"organization_id": org.pk, "client_ids": []})
        assert structlog.contextvars.get_contextvars() == {"request_id": "req-1"}
    _, lines = log_lines()
    assert next(x for x in lines if x["event"] == "task_started")["request_id"] == "req-1"


def test_log_format_switch():
    from config.logs import logging_config

    assert logging_config(fmt="console", level="INFO")["root"]["level"] == "INFO"
    with pytest.raises(ValueError, match="json"):
        logging_config(fmt="xml", level="INFO")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    assert json.loads(formatter("json").format(record))["event"] == "hello you"
    assert "hello you" in formatter("console").format(record)


# --- The version -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_version_in_the_footer_and_on_api_responses(client, org, monkeypatch):
    member = MembershipFactory(organization=org, role=Role.ADMIN)
    client.force_login(member.user)
    page = client.get("/").content.decode()
    assert f'data-testid="app-version">{VERSION}<' in page
    response = client.get("/api/v1/clients/")
    assert response["X-App-Version"] == VERSION
    assert "X-App-Version" not in client.get("/").headers  # the API's header only

    monkeypatch.setenv("APP_COMMIT", "0123456789abcdef0123")
    assert client.get("/api/v1/clients/")["X-App-Version"] == f"{VERSION}+0123456789ab"
    assert "0123456789ab" in client.get("/").content.decode()
    monkeypatch.setenv("APP_COMMIT", "not a commit; <b>")
    assert client.get("/api/v1/clients/")["X-App-Version"] == VERSION
    # Unauthenticated API calls get it too.
    client.logout()
    response = client.get("/api/v1/clients/")
    assert response.status_code in {401, 403} and response["X-App-Version"] == VERSION


# --- make serve ------------------------------------------------------------------------------
def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_make_serve_starts_everything_and_ctrl_c_stops_everything(redis_url, tmp_path):
    from tests.metrics.test_worker import database_url

    web_port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "PORT": str(web_port),
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "2",
        "BEAT_SCHEDULE": str(tmp_path / "beat-schedule"),
        "DJANGO_LOG_FORMAT": "json",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    owner = settings.DATABASE_OWNER
    if owner:  # as CI runs it: the app role, and the owner for `migrate`
        auth = owner["USER"] + (f":{owner['PASSWORD']}" if owner.get("PASSWORD") else "")
        host, port = owner.get("HOST") or "127.0.0.1", owner.get("PORT") or 5432
        env["DATABASE_OWNER_URL"] = (
            f"postgres://{auth}@{host}:{port}/{connection.settings_dict['NAME']}"
        )
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        [sys.executable, "bin/serve"], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/readyz", timeout=2) as r:
                return r.status == 200 and json.loads(r.read())["broker"] == "ok"
        except (OSError, urllib.error.URLError):
            return False

    try:
        wait_for(ready, timeout=90, what="/readyz 200 from make serve")
        output = (tmp_path / "serve.log").read_text()
        wait_for(
            lambda: "ready." in (tmp_path / "serve.log").read_text(), timeout=60, what="worker"
        )
        processes = _descendants(serve.pid)
        # gunicorn's master and 2 workers, Celery's worker and its 2 processes, beat.
        assert len(processes) >= 7, processes
        serve.send_signal(signal.SIGINT)
        assert serve.wait(40) == 0
        wait_for(lambda: not any(_running(p) for p in processes), timeout=10, what="the children")
    finally:
        if serve.poll() is None:
            serve.kill()
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "make serve: stopping (asked to)" in output
    assert '"logger": "gunicorn.error"' in output


def test_make_serve_refuses_without_database_and_redis():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    done = subprocess.run(
        [sys.executable, "bin/serve"], cwd=BASE_DIR, env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "set DATABASE_URL and REDIS_URL" in done.stderr
