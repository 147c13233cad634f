from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError

from accounts.errors import DomainError
from accounts.models import (
    ApiKey,
    AuditEvent,
    Membership,
    Organization,
    OutboxMessage,
    PersonalOutboxMessage,
    Role,
    User,
)
from accounts.permissions import Actor
from accounts.services import api_key_create, api_key_revoke, organization_delete


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organization"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "full_name"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "public_id", "timezone", "created_at"]
    search_fields = ["name", "slug", "public_id"]
    readonly_fields = ["public_id"]

    # Through the service: an organization's audit journal may only go with it.
    def delete_model(self, request, obj):
        organization_delete(organization=obj)

    def delete_queryset(self, request, queryset):
        for organization in queryset:
            organization_delete(organization=organization)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["organization", "role"]
    search_fields = ["user__email"]


class TenantAdmin(admin.ModelAdmin):
    """Staff see every organization by design: the admin is the operators' tool, so it uses
    the loudly named escape hatch, always shows the organization and filters by it."""

    list_filter: tuple = ("organization",)

    def get_queryset(self, request):
        return self.model.objects.unscoped_dangerously().select_related("organization")

    def get_list_display(self, request):
        return ["organization", *super().get_list_display(request)]


@admin.register(AuditEvent)
class AuditEventAdmin(TenantAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id", "object_repr"]
    list_filter = ("organization", "action", "object_type")
    search_fields = ["object_repr", "actor_label"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ApiKeyAddForm(forms.ModelForm):
    organization = forms.ModelChoiceField(queryset=Organization.objects.all())

    class Meta:
        model = ApiKey
        fields = ["name", "scope", "expires_at"]

    def clean(self):
        data = super().clean()
        org, name = data.get("organization"), (data.get("name") or "").strip()
        if org and name and ApiKey.objects.for_organization(org).filter(name__iexact=name).exists():
            self.add_error("name", "An API key with this name already exists.")
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(TenantAdmin):
    """Create (the key is shown once, in the confirmation message) and revoke keys."""

    list_display = [
        "name",
        "scope",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ("organization", "scope")
    fields = [
        "organization",
        "name",
        "scope",
        "expires_at",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "organization", "name", "scope", "expires_at"]
        return self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            form.base_fields["organization"] = forms.ModelChoiceField(
                queryset=Organization.objects.all()
            )
        return form

    def save_model(self, request, obj, form, change):
        if change:
            return
        org = form.cleaned_data["organization"]
        actor = Actor(
            organization=org, user=request.user, role=Role.ADMIN, label=request.user.email
        )
        try:
            key, raw = api_key_create(
                actor=actor, name=obj.name, scope=obj.scope, expires_at=obj.expires_at
            )
        except DomainError as exc:
            raise ValidationError(exc.message) from exc
        obj.pk = key.pk
        messages.warning(request, f"Copy the key now, it is not shown again: {raw}")

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset:
            actor = Actor(
                organization=key.organization,
                user=request.user,
                role=Role.ADMIN,
                label=request.user.email,
            )
            api_key_revoke(actor=actor, api_key_id=key.pk)
        messages.success(request, "Revoked.")


class ReadOnlyTenantAdmin(TenantAdmin):
    """Changes here would bypass the journey rules and the audit journal, so the admin
    shows and filters but does not write; use the app, the API or the commands."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyTenantAdmin):
    """What is waiting, failed or dead in the outbox (`accounts.outbox`); read only, the
    flush retries on its own. An e-mail's body is not shown (it may carry a link)."""

    list_display = [
        "id",
        "kind",
        "summary",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "done_at",
        "last_error",
    ]
    list_filter = ("status", "kind", "organization")
    fields = [
        "organization",
        "kind",
        "summary",
        "dedupe_key",
        "status",
        "attempts",
        "next_attempt_at",
        "handed_at",
        "created_at",
        "done_at",
        "last_error",
    ]
    readonly_fields = fields

    @admin.display(description="what")
    def summary(self, obj: OutboxMessage) -> str:
        payload = obj.payload or {}
        if obj.kind == OutboxMessage.Kind.EMAIL:
            return f"to {', '.join(payload.get('to') or [])}: {payload.get('subject', '')}"
        return f"{payload.get('task', '')}({payload.get('kwargs', {})})"


@admin.register(PersonalOutboxMessage)
class PersonalOutboxMessageAdmin(admin.ModelAdmin):
    """E-mails to people outside any organization (password resets) waiting, failed or
    dead; read only, like the organizations' outbox."""

    list_display = ["id", "summary", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ("status",)
    fields = [f for f in OutboxMessageAdmin.fields if f != "organization"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="what")
    def summary(self, obj: PersonalOutboxMessage) -> str:
        payload = obj.payload or {}
        return f"to {', '.join(payload.get('to') or [])}: {payload.get('subject', '')}"
