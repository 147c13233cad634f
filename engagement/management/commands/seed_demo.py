import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.errors import DomainError
from accounts.models import Organization
from accounts.services import organization_delete
from engagement.demo import DEFAULT_PASSWORD, demo_seed


class Command(BaseCommand):
    help = (
        "Load a realistic demo organization (one user per role, ~40 clients, ~150 projects over "
        "two years, milestones, touchpoints, CSAT/NPS) through the services. Deterministic."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="demo")
        parser.add_argument("--name", default="Demo CDMO")
        parser.add_argument(
            "--seed", type=int, default=7, help="Random seed (same seed, same data)"
        )
        parser.add_argument(
            "--today", help="Anchor date YYYY-MM-DD (default: today, UTC); all data is before it"
        )
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help="Password of every demo user"
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the organization first if it exists"
        )

    def handle(self, *args, slug, name, seed, today, password, reset, **options):
        now = timezone.now()
        if today:
            try:
                anchor = dt.date.fromisoformat(today)
            except ValueError:
                raise CommandError(f"--today '{today}' is not a date (YYYY-MM-DD).") from None
            if anchor > now.date():
                raise CommandError(
                    "--today cannot be in the future: the journey refuses future events."
                )
        else:
            anchor = now.date()
        existing = Organization.objects.filter(slug=slug).first()
        if existing and not reset:
            self.stdout.write(
                f"Demo organization '{slug}' already exists; leaving it as it is (use --reset to rebuild)."
            )
            return
        started = time.monotonic()
        try:
            with transaction.atomic():
                if existing:
                    organization_delete(organization=existing)
                result = demo_seed(slug=slug, name=name, seed=seed, today=anchor, password=password)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        took = time.monotonic() - started
        counts = ", ".join(f"{v} {k}" for k, v in result.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Loaded '{slug}' in {took:.1f}s: {counts}."))
        self.stdout.write(
            f"Log in at http://127.0.0.1:8000/ with any of these (password: {result.password}):"
        )
        for email, role in result.users:
            self.stdout.write(f"  {role:<16} {email}")
