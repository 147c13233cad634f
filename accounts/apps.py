from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import (
            celery_scope,
            checks,  # noqa: F401 - registers the deploy checks
            rls,
            webhooks,  # noqa: F401 - registers the outbox's performer of webhook rows
        )

        # Infrastructure, not domain logic: every PostgreSQL connection carries the scope,
        # and every migration ends with the row-level security policies re-applied.
        rls.connect()
        post_migrate.connect(rls.post_migrate, dispatch_uid="accounts.rls.post_migrate")
        celery_scope.connect()
