"""Incremental refresh: random sequences of changes through the services (moves, back-dated
moves, admin corrections, milestones, feedback, touchpoints, a client's segment and manager
changing, a project's manager, modality and value changing, a project deleted, a project
opened), each committed and followed by the refresh its commit asks for (eager Celery, the
real path), end with exactly the rows a full rebuild gives: keys, dimensions, periods, n,
numerator, denominator, value and the provisional flag. On the suite's engine (SQLite and
PostgreSQL both run it in CI)."""

from __future__ import annotations

import contextlib
import datetime as dt
import random

import pytest
import time_machine
from django.core.cache import cache

from accounts.errors import DomainError
from journey import services
from journey.models import Milestone, Project, Touchpoint
from metrics import engine
from metrics.models import MetricResult
from metrics.recompute import metrics_recompute
from tests.factories import ClientFactory, MembershipFactory, OrganizationFactory

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
PHASES = ["assess", "initiate", "plan", "execute", "close_out"]
FIELDS = ("key", "dimension", "dimension_value", "period", "n", "provisional")


def rows(org) -> dict[tuple, tuple]:
    out = {}
    for r in MetricResult.objects.for_organization(org):
        out[tuple(getattr(r, f) for f in FIELDS)] = (r.value, r.numerator, r.denominator)
    return out


def same(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    return all(
        x == pytest.approx(y, rel=1e-9, abs=1e-9)
        for key in a
        for x, y in zip(a[key], b[key], strict=True)
        if not (x is None and y is None)
    )


class Story:
    def __init__(self, rng: random.Random):
        from accounts.permissions import Actor

        self.rng = rng
        self.org = OrganizationFactory()
        self.admin = Actor.from_membership(MembershipFactory(organization=self.org, role="admin"))
        self.ams = [
            MembershipFactory(organization=self.org, role="account_manager").user for _ in range(2)
        ]
        self.pms = [
            MembershipFactory(organization=self.org, role="project_manager").user for _ in range(2)
        ]
        self.clients = [
            ClientFactory(organization=self.org, segment=s, account_manager=self.ams[i % 2])
            for i, s in enumerate(["big_pharma", "biotech", "biotech", "academic"])
        ]
        self.n = 0
        self.checkpoint = False

    def when(self, after: dt.datetime) -> dt.datetime:
        """A time between `after` and now (moves may be back-dated)."""
        span = (NOW - after).total_seconds()
        return after + dt.timedelta(seconds=self.rng.uniform(0, span))

    def open_project(self):
        self.n += 1
        return services.project_open(
            actor=self.admin,
            client=self.rng.choice(self.clients).pk,
            name=f"P{self.n}",
            code=f"P-{self.n}",
            modality=self.rng.choice(["biologic", "adc", "peptide"]),
            project_manager=self.rng.choice(self.pms).email,
            contract_value=str(self.rng.randrange(100, 900) * 1000),
            opened_at=NOW - dt.timedelta(days=self.rng.uniform(30, 900)),
        )

    def projects(self, open_only: bool = False) -> list[Project]:
        qs = Project.objects.for_organization(self.org).order_by("id")
        return list(qs.open() if open_only else qs)

    def last_at(self, project) -> dt.datetime:
        return project.transitions.order_by("-seq").first().at

    # --- the changes ----------------------------------------------------------------------
    def move(self):
        project = self.rng.choice(self.projects(open_only=True) or [self.open_project()])
        moves = services.allowed_moves(project, actor=self.admin)
        if not moves:
            return
        forward = [m for m in moves if m in (*PHASES, "completed")]
        # Mostly forward, so projects complete and clients win again (repeat business).
        target = self.rng.choice(forward if forward and self.rng.random() < 0.75 else moves)
        at = self.last_at(project) + dt.timedelta(days=self.rng.uniform(1, 60))
        services.project_transition(
            actor=self.admin, project_id=project.pk, to=target, at=min(at, NOW)
        )

    def correct(self):
        project = self.rng.choice(self.projects(open_only=True) or [self.open_project()])
        target = self.rng.choice([p for p in PHASES if p != project.phase])
        services.project_transition(
            actor=self.admin,
            project_id=project.pk,
            to=target,
            at=self.when(self.last_at(project)),
            reason="Corrected by the test",
        )

    def milestone(self):
        project = self.rng.choice(self.projects())
        existing = list(Milestone.objects.for_organization(self.org).filter(project=project))
        choice = self.rng.random()
        if existing and choice < 0.3:
            m = self.rng.choice(existing)
            services.milestone_update(
                actor=self.admin,
                milestone_id=m.pk,
                due_date=(NOW - dt.timedelta(days=self.rng.uniform(0, 300))).date(),
            )
        elif existing and choice < 0.45:
            services.milestone_delete(actor=self.admin, milestone_id=self.rng.choice(existing).pk)
        else:
            done = self.rng.random() < 0.8
            self.n += 1
            services.milestone_create(
                actor=self.admin,
                project=project.pk,
                phase="assess",
                title=f"M{self.n}",
                due_date=(project.opened_at + dt.timedelta(days=self.rng.uniform(1, 200))).date(),
                completed_at=self.when(project.opened_at) if done else None,
            )

    def feedback(self):
        project = self.rng.choice(self.projects())
        kind = self.rng.choice(["csat", "nps"])
        score = self.rng.randrange(1, 6) if kind == "csat" else self.rng.randrange(0, 11)
        made = services.feedback_create(
            actor=self.admin,
            project=project.pk,
            kind=kind,
            phase="assess",
            score=score,
            responded_at=self.when(project.opened_at),
        )
        if self.rng.random() < 0.25:
            services.feedback_update(
                actor=self.admin, feedback_id=made.pk, responded_at=self.when(project.opened_at)
            )
        elif self.rng.random() < 0.2:
            services.feedback_delete(actor=self.admin, feedback_id=made.pk)

    def touchpoint(self):
        client = self.rng.choice(self.clients)
        projects = [p for p in self.projects() if p.client_id == client.pk]
        about = self.rng.choice([None, *projects]) if projects else None
        made = services.touchpoint_create(
            actor=self.admin,
            client=client.pk,
            project=about.pk if about else None,
            kind="call",
            at=NOW - dt.timedelta(days=self.rng.uniform(0, 700)),
            senior_leader_present=self.rng.random() < 0.3,
        )
        if self.rng.random() < 0.2:
            services.touchpoint_update(
                actor=self.admin, touchpoint_id=made.pk, at=NOW - dt.timedelta(days=400)
            )
        elif self.rng.random() < 0.1:
            Touchpoint.objects.for_organization(self.org).filter(pk=made.pk).exists()
            services.touchpoint_delete(actor=self.admin, touchpoint_id=made.pk)

    def client_change(self):
        client = self.rng.choice(self.clients)
        if self.rng.random() < 0.5:
            services.client_update(
                actor=self.admin,
                client_id=client.pk,
                segment=self.rng.choice(["big_pharma", "mid_pharma", "biotech", "academic"]),
            )
        else:
            services.client_update(
                actor=self.admin,
                client_id=client.pk,
                account_manager=self.rng.choice(self.ams).email,
            )

    def project_change(self):
        project = self.rng.choice(self.projects())
        field = self.rng.choice(["project_manager", "modality", "contract_value"])
        value = {
            "project_manager": self.rng.choice(self.pms).email,
            "modality": self.rng.choice(["biologic", "adc", "mrna"]),
            "contract_value": str(self.rng.randrange(100, 900) * 1000),
        }[field]
        services.project_update(actor=self.admin, project_id=project.pk, **{field: value})

    def win_again(self):
        """A client whose project completed wins a new one months later: the completion's
        repeat-business figure, in an earlier month, changes."""
        done = [p for p in self.projects() if p.status == "completed"]
        if not done:
            return
        project = self.rng.choice(done)
        completed = self.last_at(project)
        if completed > NOW - dt.timedelta(days=70):
            return
        self.n += 1
        new = services.project_open(
            actor=self.admin,
            client=project.client_id,
            name=f"P{self.n}",
            code=f"P-{self.n}",
            modality="biologic",
            opened_at=completed - dt.timedelta(days=30),
        )
        won = completed + dt.timedelta(days=self.rng.uniform(40, 300))
        services.project_transition(
            actor=self.admin, project_id=new.pk, to="initiate", at=min(won, NOW)
        )
        self.checkpoint = True  # compare now: a later change could refresh that month too

    def project_delete(self):
        if len(self.projects()) > 3:
            services.project_delete(
                actor=self.admin, project_id=self.rng.choice(self.projects()).pk
            )

    def step(self):
        change = self.rng.choices(
            [
                self.move,
                self.correct,
                self.milestone,
                self.feedback,
                self.touchpoint,
                self.client_change,
                self.project_change,
                self.project_delete,
                self.open_project,
                self.win_again,
            ],
            weights=[34, 4, 8, 6, 6, 4, 4, 2, 5, 6],
        )[0]
        with contextlib.suppress(DomainError):  # a refused change writes and asks nothing
            change()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_refreshes_end_where_a_full_rebuild_does(seed, settings, monkeypatch):
    settings.METRICS_AUTO_RECOMPUTE = True
    cache.clear()
    refreshes: list[dt.datetime | None] = []
    recompute = engine.recompute

    def counted(**kwargs):
        refreshes.append(kwargs.get("since"))
        return recompute(**kwargs)

    monkeypatch.setattr(engine, "recompute", counted)
    with time_machine.travel(NOW, tick=False):
        story = Story(random.Random(seed))
        for _ in range(10):
            story.open_project()
        for _ in range(6):  # history: every project moves a few times
            for project in story.projects(open_only=True):
                story.rng.seed(seed * 1000 + project.pk)
                story.move()
        story.rng.seed(seed)
        metrics_recompute(organization=story.org)
        for step in range(60):
            story.step()
            if step % 15 == 14 or story.checkpoint:
                story.checkpoint = False  # the incremental rows so far, against a full rebuild
                incremental = rows(story.org)
                metrics_recompute(organization=story.org)
                assert same(incremental, rows(story.org)), f"seed {seed}, step {step}"
        incremental = rows(story.org)
        assert incremental, "the story produced figures"
        metrics_recompute(organization=story.org)
        assert same(incremental, rows(story.org))
    # The changes were refreshed incrementally (each from its own `since`), not rebuilt.
    incremental_runs = [s for s in refreshes if s is not None]
    assert len(incremental_runs) > 40
    assert any(s < NOW - dt.timedelta(days=60) for s in incremental_runs)  # back-dated ones


@pytest.mark.django_db
def test_a_clients_reach_costs_the_same_queries_whatever_its_projects(org, admin):
    """A segment change reaches back to the client's first event: a few grouped queries,
    not some per project (a big sponsor holds hundreds)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from journey.changes import client_since
    from tests.factories import ProjectFactory

    def cost(n: int) -> tuple[int, dt.datetime]:
        client = ClientFactory(organization=org)
        for i in range(n):
            ProjectFactory(client=client, opened_at=NOW - dt.timedelta(days=10 + i))
        with CaptureQueriesContext(connection) as queries:
            since = client_since(client)
        return len(queries), since

    few, since_few = cost(2)
    assert since_few == NOW - dt.timedelta(days=11)
    many, since_many = cost(20)
    assert few == many
    assert since_many == NOW - dt.timedelta(days=29)  # the earliest opening
