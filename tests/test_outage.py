"""A broker outage against real processes: the web app (gunicorn, production settings) on
PostgreSQL with its own redis-server, which the test stops and starts again.

With Redis down, a transition that closes a phase gate, a touchpoint, a survey request and a
recompute request each answer in under a second and are kept (their side effects wait as
outbox rows). With Redis back, a real Celery worker and beat send every e-mail exactly once
and run the recompute.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import OutboxMessage, Role
from journey.models import Feedback, PhaseTransition, Touchpoint
from metrics.models import MetricRun, RunStatus
from tests.api.conftest import make_key
from tests.factories import (
    ClientFactory,
    ContactFactory,
    MembershipFactory,
    OrganizationFactory,
    ProjectFactory,
)
from tests.metrics.test_worker import database_url
from tests.processes import free_port, port_open, wait_for

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS_SERVER = shutil.which("redis-server")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server"),
]


class Processes:
    """Starts processes in their own process groups and kills them all at the end."""

    def __init__(self, tmp: Path, env: dict[str, str]):
        self.tmp, self.env, self.procs = tmp, env, []

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("a")
        proc = subprocess.Popen(
            command,
            env=self.env,
            cwd=BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)


def call(base: str, key: str, method: str, path: str, body: dict | None = None):
    """One API call: (status, JSON body, seconds)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}{path}",
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    elapsed = time.monotonic() - started
    try:
        return status, json.loads(raw or b"null"), elapsed
    except ValueError:
        return status, raw.decode(errors="replace")[-2000:], elapsed


def test_a_broker_outage_delays_side_effects_and_loses_none(tmp_path):
    org = OrganizationFactory(slug="outage")
    MembershipFactory(organization=org, role=Role.ADMIN)
    client = ClientFactory(organization=org, service_model="consultative")
    contact = ContactFactory(
        client=client, organization=org, is_primary=True, email="dana@outage.example"
    )
    project = ProjectFactory(client=client, opened_at=timezone.now() - dt.timedelta(days=20))
    key = make_key(org, "write")
    OutboxMessage.objects.for_organization(org).delete()  # the fixtures' own side effects
    MetricRun.objects.for_organization(org).delete()

    redis_port, web_port = free_port(), free_port()
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    queue = f"outage-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "1",
        "DJANGO_ALLOW_DEV_SECRET": "1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CELERY_QUEUE": queue,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(mail_dir),
        "OUTBOX_FLUSH_SECONDS": "2",
        "METRICS_COALESCE_SECONDS": "1",
        "DJANGO_LOG_LEVEL": "INFO",
    }
    processes = Processes(tmp_path, env)
    redis_command = [
        REDIS_SERVER,
        "--port",
        str(redis_port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
    ]
    try:
        redis = processes.start("redis", redis_command)
        wait_for(lambda: port_open(redis_port), timeout=20, what="redis-server to listen")
        processes.start(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                "1",
                "--timeout",
                "60",
            ],
        )
        base = f"http://127.0.0.1:{web_port}"

        def web_up() -> bool:
            try:
                return call(base, key, "GET", "/api/v1/clients/")[0] == 200
            except OSError:
                return False

        wait_for(web_up, timeout=60, what="the web app to start (web.log)")

        # --- the broker goes down ---------------------------------------------------------
        processes.stop(redis)
        assert not port_open(redis_port)

        status, moved, took = call(
            base, key, "POST", f"/api/v1/projects/{project.pk}/transition/", {"to": "initiate"}
        )
        assert status == 200, moved
        assert took < 1, f"transition took {took:.2f} s with the broker down"
        status, touchpoint, took = call(
            base,
            key,
            "POST",
            "/api/v1/touchpoints/",
            {"client": client.pk, "kind": "call", "at": timezone.now().isoformat()},
        )
        assert status == 201, touchpoint
        assert took < 1, f"touchpoint took {took:.2f} s with the broker down"
        status, request, took = call(
            base,
            key,
            "POST",
            "/api/v1/feedback-requests/",
            {"project": project.pk, "contact": contact.pk, "kind": "nps", "phase": "initiate"},
        )
        assert status == 201, request
        assert took < 1, f"survey request took {took:.2f} s with the broker down"
        status, recompute, took = call(base, key, "POST", "/api/v1/metrics/recompute/")
        assert status in (202, 503), recompute
        assert took < 1, f"recompute request took {took:.2f} s with the broker down"
        assert recompute["run"]["status"] == "queued"
        run_id = recompute["run"]["id"]

        # Kept: the changes, and their side effects waiting as outbox rows.
        assert (
            PhaseTransition.objects.for_organization(org)
            .filter(project=project, kind="won")
            .exists()
        )
        assert Touchpoint.objects.for_organization(org).filter(pk=touchpoint["id"]).exists()
        assert (
            Feedback.objects.for_organization(org).get(pk=request["id"]).sent_at is None
        )  # its e-mail waits
        waiting = OutboxMessage.objects.for_organization(org).filter(status="pending")
        tasks = sorted(waiting.values_list("payload__task", flat=True))
        assert "engagement.tasks.survey_gate_task" in tasks, tasks
        assert "engagement.tasks.survey_send_task" in tasks, tasks
        assert tasks.count("metrics.tasks.metrics_recompute_task") >= 2, tasks
        assert not waiting.exclude(handed_at__isnull=True).exists()  # every hand-over failed
        assert list(mail_dir.iterdir()) == []
        assert "not handed over" in processes.log("web")

        # --- the broker is back: a worker and beat catch up ------------------------------
        processes.start("redis", redis_command)
        wait_for(lambda: port_open(redis_port), timeout=20, what="redis-server to come back")
        celery = [sys.executable, "-m", "celery", "-A", "config"]
        processes.start(
            "worker",
            [
                *celery,
                "worker",
                "-Q",
                queue,
                "--concurrency=1",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{queue}@%h",
                "-l",
                "info",
            ],
        )
        processes.start(
            "beat",
            [
                *celery,
                "beat",
                "-l",
                "info",
                "-s",
                str(tmp_path / "beat-schedule"),
                "--pidfile",
                str(tmp_path / "beat.pid"),
            ],
        )

        def caught_up() -> bool:
            rows = OutboxMessage.objects.for_organization(org)
            run = MetricRun.objects.for_organization(org).get(pk=run_id)
            return (
                not rows.exclude(status="done").exists()
                and run.status == RunStatus.SUCCEEDED
                and len(list(mail_dir.iterdir())) >= 2
            )

        try:
            wait_for(caught_up, timeout=120, what="the worker and beat to catch up")
        except AssertionError:
            rows = list(
                OutboxMessage.objects.for_organization(org).values_list(
                    "pk", "status", "payload__task", "attempts", "last_error"
                )
            )
            worker, beat = processes.log("worker")[-4000:], processes.log("beat")[-2000:]
            raise AssertionError(f"{rows}\nworker:\n{worker}\nbeat:\n{beat}") from None
        time.sleep(6)  # a few more flushes: nothing is sent twice
        mails = sorted(p.read_text() for p in mail_dir.iterdir())
        assert len(mails) == 2, mails
        assert sum("dana@outage.example" in m for m in mails) == 2
        assert sum("recommend us" in m for m in mails) == 1  # the NPS request
        assert sum("How did the assess phase go?" in m for m in mails) == 1  # the gate's
        gate = Feedback.objects.for_organization(org).get(origin="gate")
        assert gate.sent_at is not None and gate.phase == "assess"
        assert Feedback.objects.for_organization(org).get(pk=request["id"]).sent_at is not None
        runs = MetricRun.objects.for_organization(org)
        assert runs.filter(trigger="change", status=RunStatus.SUCCEEDED).exists()
        assert not runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists()
        assert OutboxMessage.objects.for_organization(org).filter(kind="email").count() == 2
    finally:
        processes.stop_all()
