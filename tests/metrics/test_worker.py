"""A real Celery worker process against real Redis (REDIS_URL; CI has it).

The web side is a real process too (`manage.py shell` with the production settings), so the
whole path runs as deployed: a service commits, its after-commit hook sets the coalescing flag
in the shared Redis cache and queues the task on Redis, the worker recomputes. Each test uses
its own queue and cache prefix, so nothing else on the Redis server interferes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import Role
from accounts.permissions import Actor
from journey.services import project_transition
from metrics.models import MetricResult, MetricRun, RunStatus
from metrics.services import metrics_recompute
from tests.factories import ClientFactory, MembershipFactory, OrganizationFactory, ProjectFactory
from tests.processes import wait_for

REDIS_URL = os.environ.get("REDIS_URL", "")
BASE_DIR = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (a real Redis) for a real worker"),
]


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


@pytest.fixture
def deployment(tmp_path):
    """Start workers and run web-side scripts against the test database and Redis."""
    tag = uuid.uuid4().hex[:10]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_ALLOW_DEV_SECRET": "1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "CELERY_QUEUE": f"test-metrics-{tag}",
        "CACHE_KEY_PREFIX": f"test-{tag}",
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "METRICS_COALESCE_SECONDS": "2",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    workers: list[subprocess.Popen] = []

    class Deployment:
        def start_worker(self, **extra: str) -> subprocess.Popen:
            log = tmp_path / f"worker-{len(workers)}.log"
            command = (
                f"{sys.executable} -m celery -A config worker -Q {env['CELERY_QUEUE']} "
                f"--concurrency=1 --pool=prefork --without-gossip --without-mingle "
                f"--without-heartbeat -n {env['CELERY_QUEUE']}-{len(workers)}@%h -l info"
            )
            proc = subprocess.Popen(
                command.split(),
                env={**env, **extra},
                cwd=BASE_DIR,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill it whole
            )
            workers.append(proc)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if " ready." in log.read_text():
                    return proc
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
            raise AssertionError(f"worker did not start:\n{log.read_text()[-3000:]}")

        def kill(self, proc: subprocess.Popen) -> None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

        def web(self, script: str, *, organization: str) -> str:
            """Run Python in a web-side process (production settings, tasks go to Redis),
            in the organization's scope, as a request or a command would be."""
            prologue = (
                "from accounts.models import Organization\n"
                "from accounts.tenancy import organization_scope_enter\n"
                f"organization_scope_enter(Organization.objects.get(slug={organization!r}))\n"
            )
            result = subprocess.run(
                [sys.executable, "manage.py", "shell", "-c", prologue + textwrap.dedent(script)],
                env=env,
                cwd=BASE_DIR,
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            return result.stdout

    yield Deployment()
    for proc in workers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def snapshot(org) -> list[tuple]:
    return sorted(
        MetricResult.objects.for_organization(org).values_list(
            "key", "dimension", "dimension_value", "period", "value", "numerator",
            "denominator", "n", "provisional",
        )
    )  # fmt: skip


def unfinished(org) -> int:
    return (
        MetricRun.objects.for_organization(org)
        .filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
        .count()
    )


def test_worker_recomputes_a_burst_of_changes_a_handful_of_times(deployment):
    org = OrganizationFactory(slug="burst")
    am = MembershipFactory(organization=org, role=Role.ACCOUNT_MANAGER).user
    client = ClientFactory(organization=org)
    MetricRun.objects.for_organization(org).delete()
    deployment.start_worker()

    burst = 1000
    out = deployment.web(
        f"""
        import datetime as dt
        from django.utils import timezone
        from accounts.models import Membership
        from accounts.permissions import Actor
        from journey.services import touchpoint_create
        m = Membership.objects.get(user__email="{am.email}", organization__slug="burst")
        actor = Actor.from_membership(m)
        now = timezone.now()
        for i in range({burst}):
            touchpoint_create(
                actor=actor, client={client.pk}, kind="call",
                at=now - dt.timedelta(hours=i), senior_leader_present=(i % 4 == 0),
            )
        print("sent")
    """,
        organization="burst",
    )
    assert "sent" in out

    def settled():
        rows = MetricResult.objects.for_organization(org).filter(
            key="senior_touch_rate", dimension="overall"
        )
        total = sum(rows.values_list("n", flat=True))
        return total == burst and unfinished(org) == 0

    wait_for(settled, timeout=90, what="the worker to recompute the whole burst")
    recomputes = MetricRun.objects.for_organization(org).filter(trigger="change")
    print(f"{burst} changes -> {recomputes.count()} recomputes")
    assert recomputes.count() <= 6, f"{recomputes.count()} recomputes for {burst} changes"
    assert all(r.status == RunStatus.SUCCEEDED for r in recomputes)
    senior = MetricResult.objects.for_organization(org).filter(
        key="senior_touch_rate", dimension="overall"
    )
    assert sum(senior.values_list("numerator", flat=True)) == burst // 4


def test_worker_killed_mid_recompute_leaves_a_complete_set_after_restart(deployment, settings):
    settings.METRICS_AUTO_RECOMPUTE = False  # this process only sets the scene
    org = OrganizationFactory(slug="crash")
    actor = Actor.system(org)
    client = ClientFactory(organization=org, segment="big_pharma")
    projects = [ProjectFactory(client=client, modality="adc") for _ in range(6)]
    for p in projects[:3]:
        project_transition(actor=actor, project_id=p.pk, to="initiate")
    metrics_recompute(organization=org)
    before = snapshot(org)
    assert before
    # New decisions the killed recompute was computing.
    for p in projects[3:]:
        project_transition(actor=actor, project_id=p.pk, to="lost")

    slow = deployment.start_worker(METRICS_STATEMENT_DELAY="1.5")
    out = deployment.web(
        """
        from accounts.models import Organization
        from accounts.permissions import Actor
        from metrics.services import metrics_recompute_request
        run = metrics_recompute_request(actor=Actor.system(Organization.objects.get(slug="crash")))
        print("RUN", run.pk)
    """,
        organization="crash",
    )
    run_id = int(out.split("RUN", 1)[1].split()[0])

    def running():
        return MetricRun.objects.for_organization(org).get(pk=run_id).status == RunStatus.RUNNING

    wait_for(running, timeout=60, what="the recompute to start")
    time.sleep(3.5)  # a few statements in, inside the recompute's transaction
    assert snapshot(org) == before  # readers still see the old set, whole
    deployment.kill(slow)
    assert snapshot(org) == before  # the killed transaction wrote nothing

    deployment.start_worker()  # the unacknowledged task comes back to the new worker

    def succeeded():
        run = MetricRun.objects.for_organization(org).get(pk=run_id)
        return run.status == RunStatus.SUCCEEDED

    wait_for(succeeded, timeout=90, what="the restarted worker to finish the recompute")
    after = snapshot(org)
    assert after != before
    # Complete and not doubled: exactly what a fresh synchronous recompute produces.
    metrics_recompute(organization=org)
    assert snapshot(org) == after
    win = MetricResult.objects.for_organization(org).get(
        key="win_rate", dimension="overall", dimension_value="all"
    )
    assert (win.numerator, win.denominator) == (3, 6)
