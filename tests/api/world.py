"""Two organizations with one of everything, and the people and keys that call the API."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import Role
from accounts.permissions import Actor
from accounts.webhooks import webhook_create
from engagement.services.alerts import alerts_for_low_score
from engagement.services.health import health_refresh
from engagement.services.playbooks import playbooks_ensure
from journey.services import feedback_create
from metrics.models import MetricResult, MetricRun
from tests.api.conftest import make_key
from tests.factories import (
    ClientFactory,
    ContactFactory,
    FeedbackFactory,
    MembershipFactory,
    MilestoneFactory,
    OrganizationFactory,
    ProjectFactory,
    TouchpointFactory,
)

ROLES = [Role.ADMIN, Role.EXECUTIVE, Role.ACCOUNT_MANAGER, Role.PROJECT_MANAGER, Role.VIEWER]
PRINCIPALS = [*[f"role:{r}" for r in ROLES], "key:read", "key:write", "key:admin"]
_n = itertools.count()


@dataclass
class Side:
    org: object
    users: dict[str, object] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    objects: dict[str, object] = field(default_factory=dict)


def build_side(name: str) -> Side:
    side = Side(org=OrganizationFactory(name=name))
    for role in ROLES:
        side.users[role] = MembershipFactory(organization=side.org, role=role).user
    for scope in ("read", "write", "admin"):
        side.keys[scope] = make_key(side.org, scope)
    client = ClientFactory(organization=side.org)
    project = ProjectFactory(
        client=client,
        project_manager=side.users[Role.PROJECT_MANAGER],
        opened_at=timezone.now() - dt.timedelta(days=30),
    )
    side.objects = {
        "clients": client,
        "projects": project,
        "contacts": ContactFactory(client=client, organization=side.org, is_primary=True),
        "milestones": MilestoneFactory(project=project, organization=side.org, phase="assess"),
        "touchpoints": TouchpointFactory(client=client, project=project, organization=side.org),
        "feedback": FeedbackFactory(project=project, organization=side.org, phase="assess"),
        # A stored figure marked with the organization, so a list can tell whose it is.
        "metrics": MetricResult.objects.create(
            organization=side.org,
            key="win_rate",
            dimension="overall",
            dimension_value=f"marker-{side.org.slug}",
            period="2026-01",
            value=0.5,
            numerator=1,
            denominator=2,
            n=2,
            computed_at=timezone.now(),
        ),
        "metric-runs": MetricRun.objects.create(organization=side.org, trigger="request"),
    }
    system = Actor.system(side.org)
    side.objects["playbooks"] = playbooks_ensure(organization=side.org)[0]
    side.objects["feedback-requests"] = feedback_create(
        actor=system,
        project=project.pk,
        contact=side.objects["contacts"].pk,
        kind="csat",
        phase="assess",
    )
    low = FeedbackFactory(project=project, organization=side.org, phase="assess", score=1)
    side.objects["alerts"] = alerts_for_low_score(feedback=low)[0]
    side.objects["client-health"] = client  # health is read per client id
    health_refresh(organization=side.org, client_ids=[client.pk])  # as after the changes
    # A public address literal: the SSRF guard passes it without DNS.
    side.objects["webhooks"] = webhook_create(
        actor=system, url=f"https://93.184.215.14/hooks/{side.org.slug}", events=["alert.raised"]
    )[0]
    return side


def create_body(resource: str, side: Side) -> dict:
    """A valid create body whose references point into `side`."""
    n = next(_n)
    o = side.objects
    yesterday = (timezone.now() - dt.timedelta(days=1)).isoformat()
    return {
        "clients": {
            "name": f"New sponsor {n}",
            "segment": "biotech",
            "account_manager": side.users[Role.ACCOUNT_MANAGER].email,
        },
        "contacts": {"client": o["clients"].pk, "name": f"Contact {n}"},
        "projects": {
            "client": o["clients"].pk,
            "name": f"Project {n}",
            "code": f"NEW-{n}",
            "modality": "adc",
        },
        "milestones": {
            "project": o["projects"].pk,
            "phase": "plan",
            "title": f"Milestone {n}",
            "due_date": "2031-01-01",
        },
        "touchpoints": {
            "client": o["clients"].pk,
            "project": o["projects"].pk,
            "kind": "call",
            "at": yesterday,
        },
        "feedback": {
            "project": o["projects"].pk,
            "kind": "csat",
            "score": 4,
            "phase": "assess",
            "responded_at": yesterday,
        },
        "feedback-requests": {
            "project": o["projects"].pk,
            "contact": o["contacts"].pk,
            "kind": "csat",
            "phase": "assess",
        },
        "webhooks": {"url": f"https://93.184.215.14/new/{n}", "events": ["project.created"]},
    }[resource]


PATCH_BODIES = {
    "clients": {"notes": "patched"},
    "contacts": {"title": "patched"},
    "projects": {"description": "patched"},
    "milestones": {"notes": "patched"},
    "touchpoints": {"summary": "patched"},
    "feedback": {"comment": "patched"},
    "playbooks": {"notes": "patched"},
    "webhooks": {"description": "patched"},
}
# Body of each POST action on one object, by its last path segment.
ACTION_BODIES = {
    "transition": {"to": "initiate"},
    "resolve": {"note": "Called the sponsor; fixed."},
    "snooze": {"until": (timezone.now().date() + dt.timedelta(days=3)).isoformat()},
}

# Which callers may write, per SPEC's roles (written out here, not read from the code). An
# admin key does what a write key does, and manages webhooks.
_AM_LEVEL = {"role:admin", "role:account_manager", "key:write", "key:admin"}
_PM_TOO = _AM_LEVEL | {"role:project_manager"}
MAY_WRITE = {
    "clients": _AM_LEVEL,
    "contacts": _AM_LEVEL,
    "projects": _AM_LEVEL,
    "feedback": _AM_LEVEL,
    "milestones": _PM_TOO,
    "touchpoints": _PM_TOO,
    # Whoever works the accounts closes the loop: every role but viewer, and write keys.
    "alerts": {
        "role:admin",
        "role:executive",
        "role:account_manager",
        "role:project_manager",
        "key:write",
        "key:admin",
    },
    # Playbooks are settings: admins only (no API key).
    "playbooks": {"role:admin"},
    "feedback-requests": _AM_LEVEL,
    # Where the organization's data goes: admins and admin keys only, reads included.
    "webhooks": {"role:admin", "key:admin"},
    # Read-only resources: no create, update or delete operations exist.
    "client-health": set(),
    "metrics": set(),
    "metric-runs": set(),
}
MAY_DELETE = {
    "clients": {"role:admin", "key:write", "key:admin"},
    "projects": {"role:admin", "key:write", "key:admin"},
    "feedback": {"role:admin", "key:write", "key:admin"},
    "webhooks": {"role:admin", "key:admin"},
    "contacts": _AM_LEVEL,
    "milestones": _PM_TOO,
    "touchpoints": _PM_TOO,
}
MAY_TRANSITION = _PM_TOO
# Queuing a recompute changes no data: every role but viewer, and write keys.
MAY_RECOMPUTE = _PM_TOO | {"role:executive"}
# Resources whose reads are restricted too (every member and key reads the others).
MAY_READ = {"webhooks": {"role:admin", "key:admin"}}
# Resources whose create body refers to nothing of an organization: "another
# organization's object" cannot be named in it.
NO_REFERENCES = {"webhooks"}
