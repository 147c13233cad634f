"""Tenant scoping: every tenant model carries its organization and refuses unscoped queries.

A `TenantQuerySet` only runs when it is provably limited to one organization: it filters on
`organization` at the top level of its WHERE clause, or it was reached through a related
object (`client.projects.all()`), which was itself fetched scoped. Anything else raises
`UnscopedQueryError` instead of silently reading across tenants. The escape hatch for the
few legitimate cross-organization readers (Django admin for staff, nightly fan-out) is
`Model.objects.unscoped_dangerously()`; grep for it in review.
"""

from __future__ import annotations

from django.db import models
from django.db.models.lookups import Exact, In
from django.db.models.sql.where import AND


class UnscopedQueryError(RuntimeError):
    pass


class TenantQuerySet(models.QuerySet):
    _dangerously_unscoped = False

    def _clone(self):
        clone = super()._clone()
        clone._dangerously_unscoped = self._dangerously_unscoped
        return clone

    def for_organization(self, organization) -> TenantQuerySet:
        if organization is None:
            raise UnscopedQueryError(f"{self.model.__name__}: organization is required")
        return self.filter(organization=organization)

    def unscoped_dangerously(self) -> TenantQuerySet:
        clone = self._chain()
        clone._dangerously_unscoped = True
        return clone

    def _is_scoped(self) -> bool:
        if self._dangerously_unscoped or "instance" in self._hints:
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

    def _fetch_all(self):
        if self._result_cache is None:
            self._check_scoped()
        return super()._fetch_all()

    def count(self):
        self._check_scoped()
        return super().count()

    def exists(self):
        self._check_scoped()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._check_scoped()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._check_scoped()
        return super().update(**kwargs)

    def delete(self):
        self._check_scoped()
        return super().delete()

    def iterator(self, chunk_size=None):
        self._check_scoped()
        return super().iterator(chunk_size=chunk_size)

    def in_bulk(self, id_list=None, *, field_name="pk"):
        self._check_scoped()
        return super().in_bulk(id_list, field_name=field_name)

    def contains(self, obj):
        self._check_scoped()
        return super().contains(obj)

    def explain(self, *, format=None, **options):
        self._check_scoped()
        return super().explain(format=format, **options)


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
