"""What a journey write touched, told to the apps above it: the one call every journey
service makes in its transaction after it wrote. The metrics refresh (after commit, once per
transaction and organization, reaching back to `since`: the earliest time the change can move
a figure at) and the engagement app's refresh of the touched clients' health (after commit)
go through their doors (`metrics.services`, `engagement.entry`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Min

from accounts.models import Organization
from engagement.entry import journey_clients_changed
from journey.models import Client, Feedback, Milestone, Project, Touchpoint
from metrics.services import metrics_request_recompute


def journey_changed(
    *,
    organization: Organization,
    client_ids: Iterable[int | None],
    since: dt.datetime | None,
    metrics: bool = True,
) -> None:
    """`since` None: the change can move any figure (a full rebuild); `metrics=False`: none."""
    if metrics:
        metrics_request_recompute(organization=organization, since=since)
    journey_clients_changed(organization=organization, client_ids=client_ids)


def earliest(*times: dt.datetime | None) -> dt.datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def project_since(project: Project) -> dt.datetime:
    """The earliest time the project's figures rest on: its opening and its events."""
    org = project.organization_id
    events = [
        Touchpoint.objects.for_organization(org).filter(project=project).aggregate(t=Min("at")),
        Milestone.objects.for_organization(org)
        .filter(project=project)
        .aggregate(t=Min("completed_at")),
        Feedback.objects.for_organization(org)
        .filter(project=project)
        .aggregate(t=Min("responded_at")),
    ]
    return earliest(project.opened_at, *(e["t"] for e in events))


def client_since(client: Client) -> dt.datetime | None:
    """The earliest time the client's figures rest on (None: it has none): four grouped
    queries, whatever the number of its projects."""
    org = client.organization_id
    firsts = [
        Project.objects.for_organization(org).filter(client=client).aggregate(t=Min("opened_at")),
        Touchpoint.objects.for_organization(org).filter(client=client).aggregate(t=Min("at")),
        Milestone.objects.for_organization(org)
        .filter(project__client=client)
        .aggregate(t=Min("completed_at")),
        Feedback.objects.for_organization(org)
        .filter(project__client=client)
        .aggregate(t=Min("responded_at")),
    ]
    return earliest(*(f["t"] for f in firsts))
