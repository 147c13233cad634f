"""Operators' admin. Read-mostly: domain writes belong to the services (rules and audit)."""

from django.contrib import admin

from accounts.admin import ReadOnlyTenantAdmin
from journey.models import (
    Client,
    Contact,
    Feedback,
    Milestone,
    PhaseTransition,
    Project,
    Touchpoint,
)


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
