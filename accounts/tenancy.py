"""Tenant scoping: every tenant model carries its organization and refuses unscoped queries.

A `TenantQuerySet` only runs when it is provably limited to one organization: it filters on
`organization` at the top level of its WHERE clause, or it was reached through a related
object (`client.projects.all()`), which was itself fetched scoped. Anything else raises
`UnscopedQueryError` instead of silently reading across tenants. The escape hatch for the
few legitimate cross-organization readers (Django admin for staff, nightly fan-out) is
`Model.objects.unscoped_dangerously()`; grep for it in review.

Under that, on PostgreSQL, row-level security (`accounts.rls`) filters every tenant table by
the organization of the current *scope*: `organization_scope(org)` (set once per request by
the middleware or the API-key authentication, per task from its `organization_id`, per
management command from `--org`); `all_organizations_dangerously(reason)` is the one path
for the few readers that must cross organizations (a user's memberships at login, legacy
API keys, survey links, the nightly fan-out, the outbox flush, the Django admin for staff).
No scope, no tenant rows. `TENANCY_APP_FILTER = False` (a test setting) switches the
application's filter off, so tests can show that row-level security alone keeps tenants apart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import models
from django.db.models.lookups import Exact, In
from django.db.models.sql.where import AND

log = logging.getLogger(__name__)


class UnscopedQueryError(RuntimeError):
    pass


# --- The scope: which organization's rows the database may show ---------------------------
NO_ORGANIZATION = "none"
ALL_ORGANIZATIONS = "all"
_UNSET = object()
_scope: ContextVar[object] = ContextVar("cdmo_organization_scope", default=_UNSET)


def current_scope() -> int | str:
    """An organization id, NO_ORGANIZATION or ALL_ORGANIZATIONS. Unset: the setting
    `TENANCY_DEFAULT_SCOPE` (NO_ORGANIZATION; the test settings use ALL_ORGANIZATIONS so that
    unit tests calling services directly need not enter a scope)."""
    value = _scope.get()
    if value is _UNSET:
        return getattr(settings, "TENANCY_DEFAULT_SCOPE", NO_ORGANIZATION)
    return value  # type: ignore[return-value]


def _scope_value(organization) -> int | str:
    if organization is None:
        return NO_ORGANIZATION
    return int(getattr(organization, "pk", organization))


@contextmanager
def organization_scope(organization) -> Iterator[None]:
    """Only this organization's rows (None: no tenant rows) until the block ends."""
    token = _scope.set(_scope_value(organization))
    try:
        yield
    finally:
        _scope.reset(token)


def organization_scope_enter(organization) -> None:
    """Enter a scope for the rest of the current request (the API-key authentication, which
    learns the organization inside the view); the middleware's scope block ends it."""
    _scope.set(_scope_value(organization))


@contextmanager
def all_organizations_dangerously(reason: str) -> Iterator[None]:
    """The one path across organizations. Say why; grep for it in review."""
    log.debug("all organizations: %s", reason)
    token = _scope.set(ALL_ORGANIZATIONS)
    try:
        yield
    finally:
        _scope.reset(token)


def app_filter_enabled() -> bool:
    return getattr(settings, "TENANCY_APP_FILTER", True)


class TenantQuerySet(models.QuerySet):
    _dangerously_unscoped = False
    _app_filter_off = False

    def _clone(self):
        clone = super()._clone()
        clone._dangerously_unscoped = self._dangerously_unscoped
        clone._app_filter_off = self._app_filter_off
        return clone

    def for_organization(self, organization) -> TenantQuerySet:
        if organization is None:
            raise UnscopedQueryError(f"{self.model.__name__}: organization is required")
        if not app_filter_enabled():
            # Test setting: the database's row-level security alone decides.
            clone = self._chain()
            clone._app_filter_off = True
            return clone
        return self.filter(organization=organization)

    def unscoped_dangerously(self) -> TenantQuerySet:
        clone = self._chain()
        clone._dangerously_unscoped = True
        return clone

    def _is_scoped(self) -> bool:
        if self._dangerously_unscoped or self._app_filter_off or "instance" in self._hints:
            return True
        where = self.query.where
        if where.connector != AND or where.negated:
            return False
        for child in where.children:
            if isinstance(child, Exact | In) and getattr(child.lhs, "target", None) is not None:
                target = child.lhs.target
                if (
                    (target.model is self.model or issubclass(self.model, target.model))
                    and target.name == "organization"
                    and child.lhs.alias == self.query.base_table
                ):
                    return True
        return False

    def _check_scoped(self) -> None:
        if not self._is_scoped():
            raise UnscopedQueryError(
                f"{self.model.__name__} queried without an organization; use "
                f".for_organization(org) (or unscoped_dangerously() where that is intended)."
            )

    def _run(self, call):
        """Check the scope, then run; an unscoped_dangerously() query runs across
        organizations in the database too (row-level security's explicit path)."""
        self._check_scoped()
        if self._dangerously_unscoped:
            with all_organizations_dangerously(f"{self.model.__name__} unscoped_dangerously()"):
                return call()
        return call()

    def _fetch_all(self):
        if self._result_cache is None:
            return self._run(super()._fetch_all)
        return super()._fetch_all()

    def count(self):
        return self._run(super().count)

    def exists(self):
        return self._run(super().exists)

    def aggregate(self, *args, **kwargs):
        return self._run(lambda: super(TenantQuerySet, self).aggregate(*args, **kwargs))

    def update(self, **kwargs):
        return self._run(lambda: super(TenantQuerySet, self).update(**kwargs))

    def delete(self):
        return self._run(super().delete)

    def iterator(self, chunk_size=None):
        self._check_scoped()
        rows = super().iterator(chunk_size=chunk_size)
        if not self._dangerously_unscoped:
            return rows

        def across() -> Iterator:
            with all_organizations_dangerously(f"{self.model.__name__} unscoped_dangerously()"):
                yield from rows

        return across()

    def in_bulk(self, id_list=None, *, field_name="pk"):
        return self._run(
            lambda: super(TenantQuerySet, self).in_bulk(id_list, field_name=field_name)
        )

    def contains(self, obj):
        return self._run(lambda: super(TenantQuerySet, self).contains(obj))

    def explain(self, *, format=None, **options):
        return self._run(lambda: super(TenantQuerySet, self).explain(format=format, **options))


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


class TenantModel(models.Model):
    """Abstract base of every domain row: organization first, timestamps for free."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        abstract = True
        # Related-object access and saving go through Django's base manager, a plain
        # Manager: they start from an object that was itself fetched scoped.
