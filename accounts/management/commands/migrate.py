"""`migrate`, as the database owner and across organizations.

With `DATABASE_OWNER_URL` set, the migration connects as the owner (the app's own role owns
no table); data migrations see every organization's rows (row-level security is forced even
on the owner). Afterwards `accounts.rls.database_guards_apply` re-applies the policies.
"""

from django.core.management.commands import migrate

from accounts.rls import as_owner
from accounts.tenancy import all_organizations_dangerously


class Command(migrate.Command):
    def handle(self, *args, **options):
        with as_owner(options["database"]), all_organizations_dangerously("migrate"):
            return super().handle(*args, **options)
