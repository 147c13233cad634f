from django.core.management.base import BaseCommand, CommandError

from accounts.errors import DomainError
from accounts.services import organization_create


class Command(BaseCommand):
    help = "Create an organization (a CDMO tenant) and its first admin."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="URL-safe id, e.g. acme-cdmo")
        parser.add_argument("--name", required=True, help="Display name")
        parser.add_argument("--admin", required=True, help="E-mail of the first admin")
        parser.add_argument("--timezone", default="UTC", help="IANA time zone (default UTC)")

    def handle(self, *args, slug, name, admin, timezone, **options):
        try:
            org, user, created = organization_create(
                slug=slug, name=name, admin_email=admin, timezone=timezone
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Created organization '{org.slug}' ({org.name})."))
        if created:
            self.stdout.write(
                f"Created user {user.email} as admin. Set a password with: "
                f"python manage.py changepassword {user.email}"
            )
        else:
            self.stdout.write(f"Existing user {user.email} is its admin.")
