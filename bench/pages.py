"""Server time of the browser app's main pages on the demo data (SQLite).

    .venv/bin/python bench/pages.py [--runs 20] [--db var/bench.sqlite3]

Builds the demo organization in its own SQLite file the first time (migrate, seed_demo,
compute_metrics), then requests every page through Django's test client as the role that
uses it: the time is the server's (middleware, queries, rendering), without a network.
Prints a table and writes it to bench/pages.md. The target is < 150 ms per page.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 150


def setup(db: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_ALLOW_DEV_SECRET"] = "1"  # noqa: S105 - a flag, not a secret
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"  # the test client speaks HTTP
    os.environ["DJANGO_SECURE_COOKIES"] = "0"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ["METRICS_AUTO_RECOMPUTE"] = "0"
    import django

    django.setup()
    from django.core.management import call_command

    fresh = not db.exists()
    call_command("migrate", verbosity=0, interactive=False)
    from accounts.models import Organization

    if fresh or not Organization.objects.filter(slug="demo").exists():
        print("Building the demo organization in", db, "...", flush=True)
        call_command("seed_demo", verbosity=0)
        call_command("compute_metrics", verbosity=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", default=str(ROOT / "var" / "bench.sqlite3"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "pages.md"))
    args = parser.parse_args()
    setup(Path(args.db))

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Organization, User
    from journey.models import Client as Sponsor
    from journey.models import Project

    org = Organization.objects.get(slug="demo")
    sponsor = (
        Sponsor.objects.for_organization(org).order_by("-updated_at", "id").first()
    )  # a client with history
    project = (
        Project.objects.for_organization(org).order_by("-journal_seq", "id").first()
    )  # the longest journey
    pages = [
        ("executive", "exec@demo.example", "/", {}),
        ("executive", "exec@demo.example", "/dashboard/", {}),
        ("executive", "exec@demo.example", "/dashboard/?slice=segment:biotech", {}),
        (
            "executive",
            "exec@demo.example",
            "/dashboard/?slice=segment:big_pharma",
            {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "dash-body"},
        ),
        ("account manager", "am@demo.example", "/clients/", {}),
        ("account manager", "am@demo.example", "/clients/?segment=biotech&q=a", {}),
        ("account manager", "am@demo.example", f"/clients/{sponsor.pk}/", {}),
        ("account manager", "am@demo.example", "/projects/", {}),
        ("account manager", "am@demo.example", "/projects/?status=open&segment=big_pharma", {}),
        ("project manager", "pm@demo.example", "/projects/mine/", {}),
        ("project manager", "pm@demo.example", "/board/", {}),
        ("project manager", "pm@demo.example", f"/projects/{project.pk}/", {}),
    ]
    clients: dict[str, Client] = {}
    rows = []
    for role, email, url, headers in pages:
        if email not in clients:
            clients[email] = Client()
            clients[email].force_login(User.objects.get(email=email))
        http = clients[email]
        for _ in range(3):
            response = http.get(url, **headers)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
        with CaptureQueriesContext(connection) as queries:
            http.get(url, **headers)
        n_queries = len(queries)  # read now: later requests clear the connection's log
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = http.get(url, **headers)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        label = url + (" (htmx partial)" if headers else "")
        rows.append((label, role, statistics.median(times), p95, n_queries, len(response.content)))

    counts = {
        "clients": Sponsor.objects.for_organization(org).count(),
        "projects": Project.objects.for_organization(org).count(),
    }
    header = (
        f"Demo data: {counts['clients']} clients, {counts['projects']} projects (SQLite). "
        f"{args.runs} requests per page after 3 warm-ups; Django test client, DEBUG off. "
        f"Python {platform.python_version()} on {platform.machine()}. Target: < {TARGET_MS} ms."
    )
    lines = [
        "| page | as | median ms | p95 ms | queries | KiB | |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for label, role, median, p95, nq, size in rows:
        ok = "ok" if p95 < TARGET_MS else "SLOW"
        lines.append(
            f"| `{label}` | {role} | {median:.1f} | {p95:.1f} | {nq} | {size / 1024:.0f} | {ok} |"
        )
    table = "\n".join(lines)
    print(header)
    print(table)
    Path(args.out).write_text(
        "# Page server times\n\n"
        "Written by `make bench-pages` (`bench/pages.py`).\n\n" + header + "\n\n" + table + "\n"
    )
    print(f"\nwritten to {args.out}")
    return 0 if all(r[3] < TARGET_MS for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
