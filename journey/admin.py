"""Operators' admin. Read-mostly: domain writes belong to the services (rules and audit)."""

from django.contrib import admin

from accounts.admin import TenantAdmin
from journey.models import (
    Alert,
    Client,
    ClientHealthSnapshot,
    Contact,
    EngagementSettings,
    Feedback,
    Milestone,
    PhaseTransition,
    Playbook,
    Project,
    Touchpoint,
)


class ReadOnlyTenantAdmin(TenantAdmin):
    """Changes here would bypass the journey rules and the audit journal, so the admin
    shows and filters but does not write; use the app, the API or the commands."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Client)
class ClientAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "segment", "service_model", "status", "account_manager"]
    list_filter = ("organization", "segment", "service_model", "status")
    search_fields = ["name"]


@admin.register(Contact)
class ContactAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "client", "email", "is_primary"]
    search_fields = ["name", "email"]


@admin.register(Project)
class ProjectAdmin(ReadOnlyTenantAdmin):
    list_display = ["code", "name", "client", "phase", "status", "project_manager", "opened_at"]
    list_filter = ("organization", "phase", "status", "modality")
    search_fields = ["code", "name"]


@admin.register(PhaseTransition)
class PhaseTransitionAdmin(ReadOnlyTenantAdmin):
    list_display = ["project", "seq", "kind", "from_phase", "to_phase", "to_status", "at", "by"]
    list_filter = ("organization", "kind")


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyTenantAdmin):
    list_display = ["title", "project", "phase", "due_date", "completed_at"]
    list_filter = ("organization", "phase")


@admin.register(Touchpoint)
class TouchpointAdmin(ReadOnlyTenantAdmin):
    list_display = ["client", "project", "kind", "at", "by", "senior_leader_present"]
    list_filter = ("organization", "kind", "senior_leader_present")


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyTenantAdmin):
    list_display = ["project", "kind", "phase", "score", "responded_at"]
    list_filter = ("organization", "kind", "phase")


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
