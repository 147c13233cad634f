"""`manage.py import_csv --org <slug> --kind <kind> <file> [--dry-run]` (SPEC Part 2)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.errors import DomainError
from accounts.permissions import Actor
from accounts.selectors import organization_get_by_slug
from accounts.tenancy import organization_scope
from journey.imports.kinds import KINDS
from journey.imports.services import csv_import_apply, csv_import_check


class Command(BaseCommand):
    help = (
        "Import a CSV file of one kind into an organization: checked whole first, written in "
        "one transaction through the services only when clean. Exits 0 when clean (or "
        "written), 1 with every problem (row N, column C: message) otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("--kind", required=True, choices=sorted(KINDS))
        parser.add_argument("file", help="The CSV file (UTF-8, comma or semicolon separated)")
        parser.add_argument("--dry-run", action="store_true", help="Only check; write nothing")

    def handle(self, *args, org, kind, file, dry_run, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        try:
            organization = organization_get_by_slug(slug=org)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        with organization_scope(organization):
            actor = Actor.system(organization, label="import_csv")
            run = csv_import_check if dry_run else csv_import_apply
            result = run(actor=actor, kind=kind, data=data)
        if result.problems:
            for problem in result.problems:
                self.stdout.write(str(problem))
            self.stderr.write(
                f"{len(result.problems)} problem(s) in {path.name} ({result.row_count} rows); "
                "nothing was written."
            )
            sys.exit(1)
        if dry_run:
            self.stdout.write(
                f"{path.name}: {result.row_count} {kind} rows, no problem (dry run: nothing written)."
            )
        else:
            self.stdout.write(
                f"{path.name}: {result.written} {kind} rows written to {organization.slug}."
            )
