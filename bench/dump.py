"""Generate a benchmark size into the database DATABASE_URL names, recompute every
organization's metrics at a fixed `now`, and print the stored rows as JSON (keyed by
organization slug, so another database's rows can be compared with them).

    DATABASE_URL=sqlite:///tmp/x.sqlite3 python -m bench.dump --size small --now 2026-11-01T12:00:00+00:00 --migrate
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--now", required=True, help="ISO 8601 with an offset")
    parser.add_argument("--migrate", action="store_true", help="migrate the database first")
    args = parser.parse_args(argv)
    now = dt.datetime.fromisoformat(args.now)
    if now.tzinfo is None:
        parser.error("--now needs a UTC offset")

    from bench.generate import setup_django

    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Organization
    from bench.compare import engine_rows
    from bench.generate import check_journals, generate
    from metrics.services import metrics_recompute

    if args.migrate:
        call_command("migrate", verbosity=0, interactive=False)
    generate(size=args.size)
    problems = check_journals()
    if problems:
        raise SystemExit("invalid journals:\n" + "\n".join(problems[:20]))
    for org in Organization.objects.order_by("slug"):
        metrics_recompute(organization=org, now=now)
    with connection.cursor() as cursor:
        rows = engine_rows(cursor)
    json.dump([[*k, *v] for k, v in sorted(rows.items())], sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
