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
    MEMBERS_MANAGE = "members.manage"
    EXPORT = "export"
    CORRECT_JOURNEY = "journey.correct"  # backward / skipping moves, with a reason


_ALL = frozenset(Perm)
ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: _ALL,
    Role.EXECUTIVE: frozenset({Perm.READ, Perm.EXPORT}),
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
        }
    ),
    # Project managers act only on projects they manage (checked with the object).
    Role.PROJECT_MANAGER: frozenset(
        {Perm.READ, Perm.PROJECT_TRANSITION, Perm.MILESTONE_WRITE, Perm.TOUCHPOINT_WRITE}
    ),
    Role.VIEWER: frozenset({Perm.READ}),
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
    write_allowed: bool = True  # False for read-scope API keys

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

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def has(self, perm: Perm, *, project=None) -> bool:
        if perm != Perm.READ and not self.write_allowed:
            return False
        if perm not in ROLE_PERMS.get(self.role or "", frozenset()):
            return False
        if self.role == Role.PROJECT_MANAGER and perm in PM_OWN_PROJECT_PERMS:
            return project is not None and project.project_manager_id == getattr(
                self.user, "pk", None
            )
        return True

    def require(self, perm: Perm, *, project=None) -> None:
        if not self.has(perm, project=project):
            if self.role == Role.PROJECT_MANAGER and perm in PM_OWN_PROJECT_PERMS:
                raise PermissionDeniedError(
                    "Project managers can only change projects they manage."
                )
            raise PermissionDeniedError()
