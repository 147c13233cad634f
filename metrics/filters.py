"""Filters of the metrics list: key, dimension, dimension value and a month range."""

from __future__ import annotations

import re

import django_filters as df
from django import forms

from metrics.models import Dimension, MetricKey, MetricResult, MetricRun, RunStatus

MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


class MonthField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value and not MONTH.match(value):
            raise forms.ValidationError("Enter a month as YYYY-MM, e.g. 2026-03.")
        return value


class MonthFilter(df.CharFilter):
    field_class = MonthField


class MetricFilter(df.FilterSet):
    key = df.ChoiceFilter(choices=MetricKey.choices)
    dimension = df.ChoiceFilter(choices=Dimension.choices)
    dimension_value = df.CharFilter(help_text="e.g. `all`, `biotech`, `pm@cdmo.example`")

    class Meta:
        model = MetricResult
        fields = ["key", "dimension", "dimension_value"]


# `from` and `to` are Python keywords, so they join the declared filters by name.
MetricFilter.base_filters["from"] = MonthFilter(
    field_name="period", lookup_expr="gte", help_text="First month, YYYY-MM (inclusive)."
)
MetricFilter.base_filters["to"] = MonthFilter(
    field_name="period", lookup_expr="lte", help_text="Last month, YYYY-MM (inclusive)."
)


class MetricRunFilter(df.FilterSet):
    status = df.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = MetricRun
        fields = ["status"]
