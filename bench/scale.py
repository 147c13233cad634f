"""Pages at a large CDMO's size: every main page and API list, single client, on the
benchmark's data (PostgreSQL), the biggest organization of the large size next to the small
size's. Writes bench/scale.md.

    .venv/bin/python -m bench.scale [--sizes small,large] [--runs 20] [--pg URL]

Each size lives in its own database (`cdmo_bench_scale_<size>` on `--pg`, default BENCH_PG or
postgres://postgres@127.0.0.1:5432), generated once (`bench.generate`), migrated, then
prepared as production would be: default playbooks, the daily alert rules and health
snapshot, the metrics. The time is the server's (Django's test client: middleware, queries,
rendering), DEBUG off, after `VACUUM ANALYZE` and two warm-up requests; a page's htmx panels
are requested too and counted in its figures (as the browser loads them). Also measured: a
phase move with the embedded default (recompute in the request), the daily rules, the
health snapshot and a full metrics rebuild.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
LAZY = re.compile(r'hx-get="([^"]+)"[^>]*hx-trigger="load')


def _env(url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_DEBUG="0",
        DJANGO_ALLOW_DEV_SECRET="1",
        DJANGO_SECURE_SSL_REDIRECT="0",  # the test client and gunicorn here speak HTTP
        DJANGO_SECURE_COOKIES="0",
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        DJANGO_LOG_LEVEL="WARNING",
        METRICS_AUTO_RECOMPUTE="1",
    )
    env.pop("REDIS_URL", None)
    return env


def prepare(size: str, pg: str, db: str | None = None) -> str:
    """The size's database (`db`, default `cdmo_bench_scale_<size>`), generated once and
    migrated; its URL."""
    db = db or f"cdmo_bench_scale_{size}"
    url = f"{pg}/{db}"
    exists = subprocess.run(
        ["psql", pg + "/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{db}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = _env(url)
    py = [sys.executable]
    if not exists:
        print(f"generating {size} into {db} ...", flush=True)
        subprocess.run(["psql", pg + "/postgres", "-qc", f"CREATE DATABASE {db}"], check=True)
        subprocess.run([*py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [*py, "-m", "bench.generate", "--size", size],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    subprocess.run([*py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return url


def measure(url: str, runs: int) -> dict:
    """Run in a child process configured for `url` (Django settings are per process)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--child", url, "--runs", str(runs)],
        cwd=ROOT,
        env=_env(url),
        capture_output=True,
        text=True,
    )
    if out.returncode:
        print(out.stdout[-3000:], out.stderr[-5000:])
        raise SystemExit(out.returncode)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(runs: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client as Http
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Membership, Organization
    from accounts.permissions import Actor
    from engagement.models import ClientHealthCurrent, Playbook
    from engagement.services.alerts import alerts_run_rules
    from engagement.services.health import health_snapshot_take
    from engagement.services.playbooks import playbooks_ensure
    from journey.models import Client, Project
    from journey.services import project_transition
    from metrics.models import MetricResult
    from metrics.recompute import metrics_recompute

    figures: dict = {"pages": [], "ops": {}}
    orgs = list(Organization.objects.all())
    org = max(orgs, key=lambda o: Client.objects.for_organization(o).count())
    figures["organization"] = {
        "slug": org.slug,
        "clients": Client.objects.for_organization(org).count(),
        "projects": Project.objects.for_organization(org).count(),
    }

    def timed(name, fn):
        started = time.monotonic()
        result = fn()
        figures["ops"][name] = round(time.monotonic() - started, 3)
        return result

    if not Playbook.objects.for_organization(org).exists():
        playbooks_ensure(organization=org)
    timed("daily alert rules", lambda: alerts_run_rules(organization=org))
    timed("daily health snapshot", lambda: health_snapshot_take(organization=org))
    timed("full metrics rebuild", lambda: metrics_recompute(organization=org))
    figures["organization"]["metric rows"] = MetricResult.objects.for_organization(org).count()
    figures["organization"]["stored health"] = ClientHealthCurrent.objects.for_organization(
        org
    ).count()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    def member(role):
        return (
            Membership.objects.filter(organization=org, role=role)
            .select_related("user", "organization")
            .order_by("id")
            .first()
        )

    executive = member("executive") or member("admin")
    admin = member("admin")
    biggest = (
        Client.objects.for_organization(org)
        .order_by()
        .values("id")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("projects"))
        .order_by("-n", "id")
        .first()["id"]
    )
    single = (
        Client.objects.for_organization(org)
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("projects"))
        .filter(n=1)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    project = (
        Project.objects.for_organization(org)
        .filter(status="active")
        .order_by("-journal_seq", "id")
        .first()
    )
    pages = [
        ("/dashboard/", executive),
        ("/", executive),
        ("/api/v1/client-health/", executive),
        (f"/clients/{biggest}/", executive),
        (f"/clients/{single}/", executive),
        ("/clients/", executive),
        ("/projects/", executive),
        (f"/projects/{project.pk}/", executive),
        ("/board/", executive),
        ("/alerts/?who=all", admin),
        ("/api/v1/projects/", executive),
        ("/api/v1/clients/", executive),
        ("/api/v1/alerts/", executive),
        ("/api/v1/metrics/", executive),
    ]
    for path, who in pages:
        http = Http()
        http.force_login(who.user)
        session = http.session
        session["active_organization_id"] = org.pk
        session.save()
        times, queries, kib = [], 0, 0
        for i in range(runs + 2):
            with CaptureQueriesContext(connection) as captured:
                started = time.monotonic()
                response = http.get(path)
                assert response.status_code == 200, (path, response.status_code)
                body = response.content
                for panel in LAZY.findall(body.decode()):
                    extra = http.get(panel, HTTP_HX_REQUEST="true")
                    assert extra.status_code == 200, (panel, extra.status_code)
                    body += extra.content
                elapsed = (time.monotonic() - started) * 1000
            if i >= 2:
                times.append(elapsed)
                queries, kib = len(captured), len(body) / 1024
        times.sort()
        figures["pages"].append(
            {
                "page": path.replace(str(biggest), "<biggest>")
                .replace(f"/{single}/", "/<one project>/")
                .replace(f"/{project.pk}/", "/<longest journey>/"),
                "p50": round(statistics.median(times), 1),
                "p95": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
                "queries": queries,
                "KiB": round(kib, 1),
            }
        )
    figures["concurrent"] = concurrent(executive.user, org, seconds=CONCURRENT_SECONDS)
    # A phase move with the embedded default: the recompute runs in the request.
    actor = Actor.from_membership(admin)
    moving = (
        Project.objects.for_organization(org)
        .filter(status="active", phase="execute")
        .order_by("id")
        .first()
    )
    from django.db import transaction

    def move():
        with transaction.atomic():
            project_transition(actor=actor, project_id=moving.pk, to="on_hold", at=timezone.now())
        with transaction.atomic():
            project_transition(actor=actor, project_id=moving.pk, to="active", at=timezone.now())

    started = time.monotonic()
    move()
    figures["ops"]["phase move, embedded (per move)"] = round((time.monotonic() - started) / 2, 3)
    print(json.dumps(figures))


CONCURRENT_SECONDS = 20
CONNECTIONS = 8


@contextlib.contextmanager
def gunicorn(env: dict, *, workers: int = 2, threads: int = 4, log=None):
    """gunicorn serving the app with `env` on 127.0.0.1 only (a free port): gthread workers,
    or sync ones (the Dockerfile's: no keep-alive) with `threads=0`; yields its base URL once
    it answers, and stops it on the way out. `log`: a file for its output (tracebacks)."""
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *(("--worker-class", "gthread", "--threads", str(threads)) if threads else ()),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {server.returncode}")
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=5).close()  # noqa: S310
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not answer within 30 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def celery_worker(env: dict, *, concurrency: int = 1, log=None):
    """A Celery worker with `env` (its REDIS_URL); stopped on the way out."""
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            f"--concurrency={concurrency}",
            "--loglevel=warning",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        time.sleep(4)  # the worker connects
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def concurrent(user, org, *, seconds: int) -> dict:
    """/dashboard/ under 8 connections for `seconds` against gunicorn (2 workers x 4
    threads), as a logged-in executive: requests/s and latency percentiles."""
    import threading
    import urllib.request

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["active_organization_id"] = org.pk
    session.create()
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}
    with gunicorn(os.environ.copy()) as base:
        url = f"{base}/dashboard/"
        for _ in range(100):
            try:
                request = urllib.request.Request(url, headers=headers)  # noqa: S310
                with urllib.request.urlopen(request) as r:  # noqa: S310
                    r.read()
                break
            except OSError:
                time.sleep(0.2)
        times: list[float] = []
        errors = [0]
        stop = time.monotonic() + seconds

        def hammer() -> None:
            while time.monotonic() < stop:
                started = time.monotonic()
                try:
                    request = urllib.request.Request(url, headers=headers)  # noqa: S310
                    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
                        r.read()
                        ok = r.status == 200
                except OSError:
                    ok = False
                if ok:
                    times.append((time.monotonic() - started) * 1000)
                else:
                    errors[0] += 1

        threads = [threading.Thread(target=hammer) for _ in range(CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    times.sort()

    def pct(q: float) -> float:
        return round(times[min(len(times) - 1, int(len(times) * q))], 1) if times else 0.0

    return {
        "requests/s": round(len(times) / seconds, 1),
        "p50": pct(0.5),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "errors": errors[0],
    }


REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/9")


def freshness(url: str) -> dict:
    """With Redis and a real worker: a phase move's request time (the refresh is queued),
    and how long until its figures are stored (the coalescing delay, then the incremental
    refresh in the worker)."""
    env = {**_env(url), "REDIS_URL": REDIS}
    with celery_worker(env):
        out = subprocess.run(
            [sys.executable, "-m", "bench.scale", "--fresh-child", url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if out.returncode:
            print(out.stdout[-2000:], out.stderr[-4000:])
            raise SystemExit(out.returncode)
        return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_child() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Membership, Organization
    from accounts.permissions import Actor
    from journey.models import Client, Project
    from journey.services import project_transition
    from metrics.models import MetricResult

    org = max(Organization.objects.all(), key=lambda o: Client.objects.for_organization(o).count())
    admin = Membership.objects.filter(organization=org, role="admin").select_related("user").first()
    actor = Actor.from_membership(admin)
    project = (
        Project.objects.for_organization(org)
        .filter(status="active", phase="plan")
        .order_by("id")
        .first()
    )
    moved_at = timezone.now()
    started = time.monotonic()
    with transaction.atomic():
        project_transition(actor=actor, project_id=project.pk, to="execute", at=moved_at)
    request = time.monotonic() - started
    # The plan stay it ended is a sample of this month's phase_duration_days.plan.
    month = moved_at.strftime("%Y-%m")
    stored = MetricResult.objects.for_organization(org).filter(
        key="phase_duration_days.plan", dimension="overall", period=month, computed_at__gte=moved_at
    )
    while not stored.exists():
        if time.monotonic() - started > 120:
            raise SystemExit("the figures did not refresh within 120 s")
        time.sleep(0.1)
    fresh = time.monotonic() - started
    print(
        json.dumps(
            {
                "move request with a worker": round(request, 3),
                "figures fresh after": round(fresh, 2),
                "coalescing delay": settings.METRICS_COALESCE_SECONDS,
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--child")
    parser.add_argument("--fresh-child")
    parser.add_argument("--out", default=str(ROOT / "bench" / "scale.md"))
    args = parser.parse_args()
    if args.child:
        child(args.runs)
        return 0
    if args.fresh_child:
        fresh_child()
        return 0
    results = {}
    for size in args.sizes.split(","):
        url = prepare(size, args.pg)
        print(f"measuring {size} ...", flush=True)
        results[size] = measure(url, args.runs)
        results[size]["fresh"] = freshness(url)
    lines = ["# Pages at scale (`make bench-scale`)", ""]
    for size, fig in results.items():
        lines.append(f"- {size}: organization {fig['organization']}")
    lines += [
        "",
        "| page | " + " | ".join(f"{s} p50 | {s} p95 | {s} queries" for s in results) + " |",
    ]
    lines.append("|---|" + "---|---|---|" * len(results))
    names = [p["page"] for p in next(iter(results.values()))["pages"]]
    for i, name in enumerate(names):
        cells = []
        for fig in results.values():
            p = fig["pages"][i]
            cells += [f"{p['p50']} ms", f"{p['p95']} ms", str(p["queries"])]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += ["", "| operation | " + " | ".join(results) + " |", "|---|" + "---|" * len(results)]
    for op in next(iter(results.values()))["ops"]:
        lines.append(
            f"| {op} | " + " | ".join(f"{fig['ops'][op]} s" for fig in results.values()) + " |"
        )
    lines += [
        "",
        f"`/dashboard/` with {CONNECTIONS} connections for {CONCURRENT_SECONDS} s against "
        "gunicorn (2 workers x 4 threads):",
        "",
        "| size | requests/s | p50 | p95 | p99 | errors |",
        "|---|---|---|---|---|---|",
    ]
    for size, fig in results.items():
        c = fig["concurrent"]
        lines.append(
            f"| {size} | {c['requests/s']} | {c['p50']} ms | {c['p95']} ms | {c['p99']} ms "
            f"| {c['errors']} |"
        )
    lines += [
        "",
        "With Redis and a Celery worker (a phase move, then polling for its stored figures):",
        "",
        "| size | move request | figures fresh after | coalescing delay |",
        "|---|---|---|---|",
    ]
    for size, fig in results.items():
        f = fig["fresh"]
        lines.append(
            f"| {size} | {f['move request with a worker']} s | {f['figures fresh after']} s "
            f"| {f['coalescing delay']} s |"
        )
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
