import time

from django.core.management.base import BaseCommand, CommandError

from accounts.errors import DomainError
from accounts.models import Organization
from accounts.selectors import organization_get_by_slug
from accounts.tenancy import organization_scope
from metrics.services import metrics_recompute, metrics_run_start


class Command(BaseCommand):
    help = (
        "Recompute metrics synchronously: one organization (--org) or all of them. Each "
        "organization's figures are replaced in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Organization slug (default: every organization)")

    def handle(self, *args, org=None, **options):
        if org:
            try:
                organizations = [organization_get_by_slug(slug=org)]
            except DomainError as exc:
                raise CommandError(exc.message) from None
        else:
            organizations = list(Organization.objects.order_by("slug"))
            if not organizations:
                self.stdout.write("No organizations yet; nothing to compute.")
                return
        total = 0
        started = time.monotonic()
        for organization in organizations:
            t0 = time.monotonic()
            with organization_scope(organization):
                run = metrics_run_start(organization=organization, run_id=None, trigger="command")
                rows = metrics_recompute(organization=organization, run=run)
            total += rows
            self.stdout.write(
                f"{organization.slug}: {rows} metric rows in {time.monotonic() - t0:.2f} s"
            )
        self.stdout.write(
            f"Done: {total} rows for {len(organizations)} organization(s) in "
            f"{time.monotonic() - started:.2f} s."
        )
