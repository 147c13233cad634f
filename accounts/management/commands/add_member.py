from django.core.management.base import BaseCommand, CommandError

from accounts.errors import DomainError
from accounts.models import Role
from accounts.permissions import Actor
from accounts.selectors import organization_get_by_slug
from accounts.services import membership_add
from accounts.tenancy import organization_scope


class Command(BaseCommand):
    help = "Add a member to an organization (creating the user if needed), or change their role."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(Role.values)}")

    def handle(self, *args, org, email, role, **options):
        try:
            organization = organization_get_by_slug(slug=org)
            with organization_scope(organization):
                membership, created = membership_add(
                    organization=organization,
                    email=email,
                    role=role,
                    actor=Actor.system(organization, label="add_member"),
                )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        who = "new user" if created else "user"
        self.stdout.write(
            self.style.SUCCESS(
                f"{who.capitalize()} {membership.user.email} is {membership.role} in '{organization.slug}'."
            )
        )
