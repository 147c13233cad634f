"""Who may do what: the one table of role permissions (SPEC, "Who uses it")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from accounts.errors import PermissionDeniedError
from accounts.models import Membership, Organization, Role, User


class Perm(StrEnum):
    READ = "read"
    CLIENT_WRITE = "client.write"
    CONTACT_WRITE = "contact.write"
    PROJECT_WRITE = "project.write"
    PROJECT_TRANSITION = "project.transition"
    MILESTONE_WRITE = "milestone.write"
    TOUCHPOINT_WRITE = "touchpoint.write"
    FEEDBACK_WRITE = "feedback.write"
    DELETE = "delete"  # clients and projects (whole relationships)
    MEMBERS_MANAGE = "members.manage"  # invite, change roles, remove (admins)
    API_KEYS_MANAGE = "api_keys.manage"  # create and revoke API keys (admins, never a key)
    EXPORT = "export"
    CORRECT_JOURNEY = "journey.correct"  # backward / skipping moves, with a reason
    METRICS_RECOMPUTE = "metrics.recompute"  # queue a recompute (dashboard button, API)
    ALERT_WRITE = "alert.write"  # resolve or snooze follow-up alerts
    ENGAGEMENT_MANAGE = "engagement.manage"  # playbooks, survey settings, health weights
    AUDIT_READ = "audit.read"  # the organization's audit log (admins and executives)
    IMPORT = "import"  # CSV import of clients, projects, the journal, ... (admins, AMs)
    WEBHOOKS_MANAGE = "webhooks.manage"  # endpoints, their tests and logs (admins, admin keys)


_ALL = frozenset(Perm)
ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: _ALL,
    # Executives sponsor projects, so they close the loop on the alerts they receive.
    Role.EXECUTIVE: frozenset(
        {Perm.READ, Perm.EXPORT, Perm.METRICS_RECOMPUTE, Perm.ALERT_WRITE, Perm.AUDIT_READ}
    ),
    # The account manager owns the commercial relationship, so also records the
    # assessment's decision (won/lost) and may move the journey of any project.
    Role.ACCOUNT_MANAGER: frozenset(
        {
            Perm.READ,
            Perm.CLIENT_WRITE,
            Perm.CONTACT_WRITE,
            Perm.PROJECT_WRITE,
            Perm.PROJECT_TRANSITION,
            Perm.MILESTONE_WRITE,
            Perm.TOUCHPOINT_WRITE,
            Perm.FEEDBACK_WRITE,
            Perm.METRICS_RECOMPUTE,
            Perm.ALERT_WRITE,
            Perm.IMPORT,
        }
    ),
    # Project managers act only on projects they manage (checked with the object).
    Role.PROJECT_MANAGER: frozenset(
        {
            Perm.READ,
            Perm.PROJECT_TRANSITION,
            Perm.MILESTONE_WRITE,
            Perm.TOUCHPOINT_WRITE,
            Perm.METRICS_RECOMPUTE,
            Perm.ALERT_WRITE,
        }
    ),
    Role.VIEWER: frozenset({Perm.READ}),
}

# API keys act for the organization, not for a person: a read key reads, a write key does
# what an integration needs (an account manager's writes, plus deletes), never member
# management or admin-only journey corrections; an admin key is a write key that may also
# manage the organization's webhooks.
_WRITE_KEY = frozenset(
    {
        Perm.READ,
        Perm.EXPORT,
        Perm.CLIENT_WRITE,
        Perm.CONTACT_WRITE,
        Perm.PROJECT_WRITE,
        Perm.PROJECT_TRANSITION,
        Perm.MILESTONE_WRITE,
        Perm.TOUCHPOINT_WRITE,
        Perm.FEEDBACK_WRITE,
        Perm.DELETE,
        Perm.METRICS_RECOMPUTE,
        Perm.ALERT_WRITE,
    }
)
API_KEY_PERMS: dict[str, frozenset[Perm]] = {
    "read": frozenset({Perm.READ, Perm.EXPORT}),
    "write": _WRITE_KEY,
    "admin": _WRITE_KEY | {Perm.WEBHOOKS_MANAGE},
}

# Permissions a project manager holds only on the projects they manage.
PM_OWN_PROJECT_PERMS = frozenset(
    {Perm.PROJECT_TRANSITION, Perm.MILESTONE_WRITE, Perm.TOUCHPOINT_WRITE}
)


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which organization, with which role. Built once per request."""

    organization: Organization
    user: User | None = None
    role: str | None = None
    label: str = "system"
    api_key_id: int | None = None
    api_key_scope: str | None = None

    @classmethod
    def for_user(cls, user: User, organization: Organization) -> Actor:
        membership = Membership.objects.filter(user=user, organization=organization).first()
        if membership is None:
            raise PermissionDeniedError("You are not a member of this organization.")
        return cls(organization=organization, user=user, role=membership.role, label=user.email)

    @classmethod
    def from_membership(cls, membership: Membership) -> Actor:
        return cls(
            organization=membership.organization,
            user=membership.user,
            role=membership.role,
            label=membership.user.email,
        )

    @classmethod
    def system(cls, organization: Organization, label: str = "system") -> Actor:
        return cls(organization=organization, role=Role.ADMIN, label=label)

    @classmethod
    def for_api_key(cls, key) -> Actor:
        return cls(
            organization=key.organization,
            label=f"api-key:{key.name}",
            api_key_id=key.pk,
            api_key_scope=key.scope,
        )

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def perms(self) -> frozenset[Perm]:
        if self.api_key_id is not None:
            return API_KEY_PERMS.get(self.api_key_scope or "", frozenset())
        return ROLE_PERMS.get(self.role or "", frozenset())

    def may(self, perm: Perm) -> bool:
        """Whether the role or key can do this at all (on some object); see `has`."""
        return perm in self.perms

    def has(self, perm: Perm, *, project=None) -> bool:
        if perm not in self.perms:
            return False
        if self.role == Role.PROJECT_MANAGER and perm in PM_OWN_PROJECT_PERMS:
            return project is not None and project.project_manager_id == getattr(
                self.user, "pk", None
            )
        return True

    def may_act_on(self, perm: Perm, *, assignee_id: int | None = None, project=None) -> bool:
        """Whether the actor may do `perm` to something assigned to someone (an alert): a
        project manager only to what is assigned to them or about a project they manage."""
        if not self.may(perm):
            return False
        if self.role == Role.PROJECT_MANAGER:
            me = getattr(self.user, "pk", None)
            return assignee_id == me or (project is not None and project.project_manager_id == me)
        return True

    def require_on(self, perm: Perm, *, assignee_id: int | None = None, project=None) -> None:
        if not self.may_act_on(perm, assignee_id=assignee_id, project=project):
            if self.may(perm):
                raise PermissionDeniedError(
                    "Project managers act only on what is assigned to them or about their projects."
                )
            self.require(perm)

    def require(self, perm: Perm, *, project=None) -> None:
        if not self.has(perm, project=project):
            if self.api_key_id is not None:
                raise PermissionDeniedError(
                    "This API key is read-only."
                    if self.api_key_scope == "read"
                    else "API keys cannot do this; ask an admin."
                )
            if self.role == Role.PROJECT_MANAGER and perm in PM_OWN_PROJECT_PERMS:
                raise PermissionDeniedError(
                    "Project managers can only change projects they manage."
                )
            raise PermissionDeniedError()
