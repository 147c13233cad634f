"""Operators' admin of the engagement rows: read-only, like the journey's."""

from django.contrib import admin

from accounts.admin import ReadOnlyTenantAdmin
from engagement.models import Alert, ClientHealthSnapshot, EngagementSettings, Playbook


@admin.register(Alert)
class AlertAdmin(ReadOnlyTenantAdmin):
    list_display = ["raised_at", "kind", "title", "assignee", "snoozed_until", "resolved_at"]
    list_filter = ("organization", "kind")
    search_fields = ["title", "cause_key"]


@admin.register(Playbook)
class PlaybookAdmin(ReadOnlyTenantAdmin):
    list_display = ["service_model", "senior_leader_expected", "senior_leader_every_days"]
    list_filter = ("organization", "service_model")


@admin.register(EngagementSettings)
class EngagementSettingsAdmin(ReadOnlyTenantAdmin):
    pass


@admin.register(ClientHealthSnapshot)
class ClientHealthSnapshotAdmin(ReadOnlyTenantAdmin):
    list_display = ["client", "day", "score"]
    list_filter = ("organization",)
