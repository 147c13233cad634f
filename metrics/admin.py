"""Operators' admin for metrics: read-only (figures come from recomputes only)."""

from django.contrib import admin

from accounts.admin import ReadOnlyTenantAdmin
from metrics.models import MetricResult, MetricRun


@admin.register(MetricResult)
class MetricResultAdmin(ReadOnlyTenantAdmin):
    list_display = ["key", "dimension", "dimension_value", "period", "value", "n", "computed_at"]
    list_filter = ("organization", "key", "dimension", "provisional")
    search_fields = ["dimension_value", "period"]


@admin.register(MetricRun)
class MetricRunAdmin(ReadOnlyTenantAdmin):
    list_display = ["created_at", "status", "trigger", "rows_written", "duration_ms", "task_id"]
    list_filter = ("organization", "status", "trigger")
