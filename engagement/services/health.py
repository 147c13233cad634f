"""Client health: a score from 0 to 100 per client, from five components, each 0-100:

- feedback: recent answers (last 180 days), CSAT s as (s - 1) / 4 x 100, NPS s as s x 10, averaged;
- milestones: milestones completed in the last 180 days on time (completion date <= due date)
  over those completed plus those open and overdue now;
- touchpoints: 100 while the last touchpoint is within the playbook's cadence (the strictest
  of the client's open projects' phases), falling linearly to 0 at twice the cadence;
- alerts: 100 - 25 per open alert about the client (0 from four); 100 without one if the
  client has open work (no data otherwise);
- stuck: the share of the client's open projects that are not past their phase target.

The score is the weighted mean of the components that have data (a client without open work
has no touchpoint or stuck component), with the organization's weights, rounded half up;
no component with data, no score. Daily snapshots keep the trend.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from accounts.models import Organization
from engagement.models import Alert, ClientHealthCurrent, ClientHealthSnapshot
from engagement.services.playbooks import HEALTH_COMPONENTS, health_weights
from engagement.services.work import client_cadence_state, stuck_projects
from journey.models import (
    Client,
    Feedback,
    FeedbackKind,
    Milestone,
    Project,
    open_project_q,
)
from journey.selectors import client_get

WINDOW_DAYS = 180


@dataclass
class Component:
    name: str
    weight: int
    score: float | None = None
    detail: str = "No data"

    @property
    def counted(self) -> bool:
        return self.score is not None and self.weight > 0


def is_at_risk(score: int | None) -> bool:
    """The at-risk rule, once: a score below `HEALTH_AT_RISK_BELOW` (no score: not at risk)."""
    return score is not None and score < settings.HEALTH_AT_RISK_BELOW


def at_risk_q() -> Q:
    """`is_at_risk` for stored rows."""
    return Q(score__lt=settings.HEALTH_AT_RISK_BELOW)


@dataclass
class ClientHealth:
    client: Client
    score: int | None
    components: dict[str, Component] = field(default_factory=dict)

    @property
    def at_risk(self) -> bool:
        return is_at_risk(self.score)

    @classmethod
    def from_stored(cls, row) -> ClientHealth:
        """The health a `ClientHealthCurrent` (or snapshot) row stored, with its breakdown."""
        components = {
            name: Component(
                name=name, weight=c["weight"], score=c["score"], detail=c.get("detail", "")
            )
            for name, c in (row.components or {}).items()
        }
        return cls(client=row.client, score=row.score, components=components)

    def as_dict(self) -> dict:
        total = sum(c.weight for c in self.components.values() if c.counted)
        return {
            name: {
                "score": None if c.score is None else round(c.score, 2),
                "weight": c.weight,
                "counted": c.counted,
                "share": round(c.weight / total, 4) if c.counted and total else 0.0,
                "detail": c.detail,
            }
            for name, c in self.components.items()
        }


def _half_up(value: float) -> int:
    return math.floor(value + 0.5)


def combine(components: dict[str, Component]) -> int | None:
    counted = [c for c in components.values() if c.counted]
    total = sum(c.weight for c in counted)
    if not total:
        return None
    return _half_up(sum(c.weight * c.score for c in counted) / total)


def _within(scope: list[int] | None, field: str) -> dict:
    return {} if scope is None else {f"{field}__in": scope}


def client_health_map(
    *, organization: Organization, now: dt.datetime | None = None, client_ids=None
) -> dict[int, ClientHealth]:
    """Health of every client (or of `client_ids`), in a fixed number of queries."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=WINDOW_DAYS)
    today = now.date()
    weights = health_weights(organization=organization)
    clients = Client.objects.for_organization(organization).order_by("name", "id")
    if client_ids is not None:
        clients = clients.filter(pk__in=list(client_ids))
    out: dict[int, ClientHealth] = {}
    for client in clients:
        out[client.pk] = ClientHealth(
            client=client,
            score=None,
            components={n: Component(name=n, weight=weights[n]) for n in HEALTH_COMPONENTS},
        )
    if not out:
        return out
    # The rules below read only these clients' rows (all of them: no id list).
    scope = None if client_ids is None else list(out)

    # feedback
    answers: dict[int, list[float]] = {}
    for client_id, kind, score in (
        Feedback.objects.for_organization(organization)
        .filter(
            **_within(scope, "project__client_id"),
            score__isnull=False,
            responded_at__gt=since,
            responded_at__lte=now,
        )
        .values_list("project__client_id", "kind", "score")
    ):
        value = (score - 1) / 4 * 100 if kind == FeedbackKind.CSAT else score * 10
        answers.setdefault(client_id, []).append(value)
    for client_id, values in answers.items():
        comp = out[client_id].components["feedback"]
        comp.score = sum(values) / len(values)
        comp.detail = f"{len(values)} answer(s) in the last {WINDOW_DAYS} days"

    # milestones
    done = (
        Milestone.objects.for_organization(organization)
        .filter(
            completed_at__gt=since, completed_at__lte=now, **_within(scope, "project__client_id")
        )
        .values_list("project__client_id", "completed_at", "due_date")
    )
    on_time: dict[int, list[int]] = {}
    for client_id, completed_at, due in done:
        tally = on_time.setdefault(client_id, [0, 0, 0])  # on time, completed, overdue
        tally[1] += 1
        if completed_at.astimezone(dt.UTC).date() <= due:
            tally[0] += 1
    for row in (
        Milestone.objects.for_organization(organization)
        .filter(
            open_project_q("project__"),
            **_within(scope, "project__client_id"),
            completed_at__isnull=True,
            due_date__lt=today,
        )
        .values("project__client_id")
        .annotate(n=Count("id"))
    ):
        on_time.setdefault(row["project__client_id"], [0, 0, 0])[2] += row["n"]
    for client_id, (good, completed, overdue) in on_time.items():
        comp = out[client_id].components["milestones"]
        comp.score = 100 * good / (completed + overdue)
        comp.detail = f"{good} of {completed} completed on time, {overdue} open and overdue"

    # touchpoints against the playbook
    for state in client_cadence_state(organization, now, client_ids=scope):
        health = out.get(state["client"].pk)
        if health is None:
            continue
        cadence = state["cadence"]
        days = (now - state["since"]).total_seconds() / 86400
        comp = health.components["touchpoints"]
        comp.score = 100.0 if days <= cadence else max(0.0, 100 * (2 * cadence - days) / cadence)
        comp.detail = f"{days:.0f} days since the last touchpoint (playbook: every {cadence})"

    # open alerts
    for row in (
        Alert.objects.for_organization(organization)
        .filter(resolved_at__isnull=True, client__isnull=False, **_within(scope, "client_id"))
        .values("client_id")
        .annotate(n=Count("id"))
    ):
        comp = out[row["client_id"]].components["alerts"]
        comp.score = max(0.0, 100.0 - 25 * row["n"])
        comp.detail = f"{row['n']} open alert(s)"
    # stuck projects
    stuck: dict[int, int] = {}
    for project, _, _ in stuck_projects(organization=organization, now=now, client_ids=scope):
        stuck[project.client_id] = stuck.get(project.client_id, 0) + 1
    for row in (
        Project.objects.for_organization(organization)
        .filter(open_project_q(), **_within(scope, "client_id"))
        .values("client_id")
        .annotate(n=Count("id"))
    ):
        n_stuck = stuck.get(row["client_id"], 0)
        comp = out[row["client_id"]].components["stuck"]
        comp.score = 100 * (1 - n_stuck / row["n"])
        comp.detail = f"{n_stuck} of {row['n']} open project(s) past their phase target"

    # No open alert is good news only about a client we are working with.
    for health in out.values():
        comp = health.components["alerts"]
        if comp.score is None and health.components["stuck"].score is not None:
            comp.score, comp.detail = 100.0, "No open alert"
        health.score = combine(health.components)
    return out


def client_health(
    *, organization: Organization, client_id, now: dt.datetime | None = None
) -> ClientHealth:
    """One client's health with its breakdown (404 outside the organization)."""
    client = client_get(organization=organization, client_id=client_id)
    return client_health_map(organization=organization, now=now, client_ids=[client.pk])[client.pk]


def client_health_stored(*, organization: Organization) -> QuerySet[ClientHealthCurrent]:
    """Every client's stored health, lowest first (no score last): an index scan, whatever
    the organization's size, so a page of it costs a page."""
    return (
        ClientHealthCurrent.objects.for_organization(organization)
        .select_related("client")
        .order_by(F("score").asc(nulls_last=True), "client_id")
    )


def client_health_list(
    *, organization: Organization, now: dt.datetime | None = None
) -> list[ClientHealth]:
    """Every client's health computed now, lowest score first (clients without a score
    last); the daily snapshot's input. Pages read `client_health_stored`."""
    rows = client_health_map(organization=organization, now=now).values()
    return sorted(rows, key=lambda h: (h.score is None, h.score or 0, h.client.name))


def at_risk_clients(*, organization: Organization, limit: int | None = 10) -> list[ClientHealth]:
    """Clients whose stored health is below `HEALTH_AT_RISK_BELOW`, lowest first."""
    rows = client_health_stored(organization=organization).filter(at_risk_q())
    return [ClientHealth.from_stored(r) for r in (rows[:limit] if limit else rows)]


def client_health_scores(*, organization: Organization, client_ids) -> dict[int, int | None]:
    """The stored scores of the clients a list shows, by client id: one query."""
    return dict(
        ClientHealthCurrent.objects.for_organization(organization)
        .filter(client_id__in=list(client_ids))
        .values_list("client_id", "score")
    )


def client_health_trend(
    *, organization: Organization, client_id, days: int = 90, today: dt.date | None = None
) -> list[ClientHealthSnapshot]:
    """The client's daily snapshots over the last `days` days, oldest first."""
    client = client_get(organization=organization, client_id=client_id)
    today = today or timezone.now().date()
    return list(
        ClientHealthSnapshot.objects.for_organization(organization)
        .filter(client=client, day__gt=today - dt.timedelta(days=days), day__lte=today)
        .order_by("day")
    )


def _store(
    organization: Organization, rows: dict[int, ClientHealth], now: dt.datetime, *, every: bool
) -> None:
    """Write `rows` as the clients' current health, and (`every`: the rows are all the
    organization's clients, the daily run) today's snapshot, replacing what today had."""
    day = now.date()
    # A refresh after a change updates the current health; the trend keeps the daily run's
    # point per day.
    trend = every
    current = ClientHealthCurrent.objects.for_organization(organization)
    today = ClientHealthSnapshot.objects.for_organization(organization).filter(day=day)
    if not every:
        current = current.filter(client_id__in=list(rows))
        today = today.filter(client_id__in=list(rows))
    current.delete()
    if trend:
        today.delete()
    ClientHealthCurrent.objects.bulk_create(
        [
            ClientHealthCurrent(
                organization=organization,
                client=h.client,
                score=h.score,
                components=h.as_dict(),
                computed_at=now,
            )
            for h in rows.values()
        ]
    )
    if not trend:
        return
    ClientHealthSnapshot.objects.bulk_create(
        [
            ClientHealthSnapshot(
                organization=organization,
                client=h.client,
                day=day,
                score=h.score,
                components=h.as_dict(),
            )
            for h in rows.values()
        ]
    )


@transaction.atomic
def health_refresh(
    *, organization: Organization, client_ids, now: dt.datetime | None = None
) -> int:
    """Recompute and store the health of these clients (after a change to them): reads only
    their rows. Clients that are gone are skipped. The number stored."""
    now = now or timezone.now()
    ids = sorted({int(i) for i in client_ids if i is not None})
    if not ids:
        return 0
    rows = client_health_map(organization=organization, now=now, client_ids=ids)
    _store(organization, rows, now, every=False)
    return len(rows)


@transaction.atomic
def health_snapshot_take(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """Store today's score of every client (replacing today's if taken twice), and make it
    the current health (time alone moves the cadence and stuck components)."""
    now = now or timezone.now()
    rows = client_health_map(organization=organization, now=now)
    _store(organization, rows, now, every=True)
    return len(rows)


AT_RISK_LIMIT = 10


@dataclass
class AtRiskRow:
    client_id: int
    name: str
    segment: str
    score: int
    worst: list[tuple[str, float]]  # (component, score), the weakest first


def at_risk_rows(*, organization: Organization, limit: int = AT_RISK_LIMIT) -> list[AtRiskRow]:
    """The at-risk clients (lowest health first) with their two weakest counted components."""
    rows = []
    for health in at_risk_clients(organization=organization, limit=limit):
        counted = sorted(
            (c for c in health.components.values() if c.counted), key=lambda c: c.score
        )
        rows.append(
            AtRiskRow(
                client_id=health.client.pk,
                name=health.client.name,
                segment=health.client.get_segment_display(),
                score=health.score,
                worst=[(c.name, c.score) for c in counted[:2]],
            )
        )
    return rows
