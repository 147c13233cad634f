"""Filter building blocks every app's lists share (django-filter), for the API and the
browser alike: ids, instants in UTC, and a free-text `search` over a resource's fields."""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_

import django_filters as df
from django import forms
from django.db.models import Q


class IdFilter(df.NumberFilter):
    """An id: a whole number in the database's range (anything else is a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class _UtcIsoDateTimeField(df.fields.IsoDateTimeField):
    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return None
        try:
            # PostgreSQL refuses offsets beyond +-15:59 that ISO 8601 allows: send UTC.
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("Date-time out of range.") from None


class DateTimeFilter(df.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC."""

    field_class = _UtcIsoDateTimeField


class SearchFilterSet(df.FilterSet):
    """A FilterSet with `search`: every word must appear (case-insensitive) in one of
    `search_fields`. The same definition serves `?search=` in the API and the browser list's
    search box."""

    search_fields: tuple[str, ...] = ()
    search = df.CharFilter(method="filter_search", label="Search", max_length=200)

    def filter_search(self, queryset, name, value):
        for word in value.split()[:8]:
            queryset = queryset.filter(
                reduce(or_, (Q(**{f"{f}__icontains": word}) for f in self.search_fields))
            )
        return queryset
