from django.core.management.base import BaseCommand, CommandError

from accounts.errors import DomainError
from accounts.permissions import Actor
from accounts.selectors import organization_get_by_slug
from accounts.services import api_key_create
from accounts.tenancy import organization_scope


class Command(BaseCommand):
    help = "Create an API key for an organization. The key is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("--name", required=True, help="What uses the key, e.g. 'ERP sync'")
        parser.add_argument("--scope", default="read", choices=["read", "write", "admin"])

    def handle(self, *args, org, name, scope, **options):
        try:
            organization = organization_get_by_slug(slug=org)
            with organization_scope(organization):
                key, raw = api_key_create(
                    actor=Actor.system(organization, label="create_api_key"),
                    name=name,
                    scope=scope,
                )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Created {key.scope} key '{key.name}' for '{organization.slug}'. "
            "Store it now: it is not shown again."
        )
        self.stdout.write(raw)
