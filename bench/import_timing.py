"""Time of a 50,000-row CSV import (check, then check + write) on the database named by
DATABASE_URL (PostgreSQL as CI runs it: the app role under row-level security).

    DATABASE_URL=postgres://cdmo_app@127.0.0.1:5432/cdmo \\
    DATABASE_OWNER_URL=postgres://postgres@127.0.0.1:5432/cdmo \\
    .venv/bin/python bench/import_timing.py [--rows 50000] [--kind touchpoints]

Migrates, creates a fresh organization (`bench-import-<time>`) with 50 clients and 200
projects through the services, generates the file in memory, and times `csv_import_check` and
`csv_import_apply` as the `import_csv` command runs them (the organization's scope, a system
actor, Celery eager: the after-commit work runs in process after the write, timed apart).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--kind", choices=["touchpoints"], default="touchpoints")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.pop("REDIS_URL", None)
    os.environ["METRICS_AUTO_RECOMPUTE"] = "0"  # the recompute is its own figure (bench/)
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.permissions import Actor
    from accounts.services import organization_create
    from accounts.tenancy import organization_scope
    from journey import services
    from journey.imports.services import csv_import_apply, csv_import_check
    from journey.models import Touchpoint

    call_command("migrate", verbosity=0)
    slug = f"bench-import-{int(time.time())}"
    org, _, _ = organization_create(
        slug=slug, name="Import bench", admin_email=f"admin@{slug}.example"
    )
    rng = random.Random(13)
    now = timezone.now()
    with organization_scope(org):
        actor = Actor.system(org, label="bench")
        clients = [
            services.client_create(actor=actor, name=f"Sponsor {i}", segment="biotech")
            for i in range(50)
        ]
        projects = [
            services.project_open(
                actor=actor,
                client=clients[i % 50].pk,
                name=f"Programme {i}",
                code=f"B-{i:04d}",
                modality="biologic",
                opened_at=now - dt.timedelta(days=900),
            )
            for i in range(200)
        ]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["client", "project", "kind", "at", "by", "senior_leader_present", "summary"]
        )
        for i in range(args.rows):
            project = projects[rng.randrange(200)]
            writer.writerow(
                [
                    f"Sponsor {project.client_id - clients[0].pk}",
                    project.code,
                    rng.choice(["meeting", "call", "email", "site_visit"]),
                    (now - dt.timedelta(minutes=rng.randrange(1, 800 * 1440))).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    f"admin@{slug}.example",
                    rng.choice(["true", "false"]),
                    f"Bench touchpoint {i}",
                ]
            )
        data = out.getvalue().encode()
        started = time.perf_counter()
        checked = csv_import_check(actor=actor, kind=args.kind, data=data)
        check_s = time.perf_counter() - started
        assert not checked.problems, [str(p) for p in checked.problems[:5]]
        started = time.perf_counter()
        written = csv_import_apply(actor=actor, kind=args.kind, data=data)
        write_s = time.perf_counter() - started
        assert written.written == args.rows, [str(p) for p in written.problems[:5]]
        assert Touchpoint.objects.for_organization(org).count() == args.rows
    print(
        f"{connection.vendor}: {args.rows} {args.kind} rows ({len(data) / 1024 / 1024:.1f} MB) "
        f"check {check_s:.1f} s ({args.rows / check_s:.0f} rows/s), "
        f"check + write in one transaction {write_s:.1f} s ({args.rows / write_s:.0f} rows/s); "
        f"organization {slug}"
    )


if __name__ == "__main__":
    main()
