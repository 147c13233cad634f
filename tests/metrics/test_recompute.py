"""When recomputes happen: after commit, once per transaction, coalesced, on request, nightly,
from the command; and that two at once still leave one complete result set."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from accounts.errors import PermissionDeniedError
from accounts.models import OutboxMessage, Role
from accounts.outbox import outbox_deliver
from accounts.permissions import Actor
from config.celery import app
from journey.services import project_transition, touchpoint_create
from metrics import engine, pending
from metrics.models import MetricResult, MetricRun, RunStatus
from metrics.services import (
    metrics_recompute,
    metrics_recompute_request,
)
from metrics.tasks import metrics_recompute_all_task, metrics_recompute_task
from tests.factories import ClientFactory, OrganizationFactory, ProjectFactory


def runs(org) -> int:
    return MetricRun.objects.for_organization(org).count()


def rows(org) -> int:
    return MetricResult.objects.for_organization(org).count()


@pytest.fixture
def project(org, days_ago):
    client = ClientFactory(organization=org)
    return ProjectFactory(client=client, opened_at=days_ago(30))


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


# These tests commit for real (transactional tests), so after-commit work runs as it does in
# production: each service call is its own transaction unless the caller opens one.
committing = pytest.mark.django_db(transaction=True)


@committing
def test_a_change_recomputes_after_commit(admin, project, days_ago):
    org = admin.organization
    before = runs(org)  # opening the project was a change too
    assert before == 1
    project_transition(actor=admin, project_id=project.pk, to="initiate", at=days_ago(20))
    assert runs(org) == before + 1
    run = MetricRun.objects.for_organization(org).order_by("-id").first()
    assert (run.status, run.trigger) == (RunStatus.SUCCEEDED, "change")
    assert run.rows_written == rows(org) > 0
    won = MetricResult.objects.for_organization(org).get(
        key="win_rate", dimension="overall", dimension_value="all"
    )
    assert (won.value, won.n) == (1.0, 1)


@committing
def test_many_changes_in_one_transaction_recompute_once(admin, project, days_ago):
    org = admin.organization
    before = runs(org)
    with transaction.atomic():
        for i in range(25):
            touchpoint_create(
                actor=admin, client=project.client_id, kind="call", at=days_ago(i + 1)
            )
        project_transition(actor=admin, project_id=project.pk, to="lost", at=days_ago(1))
    assert runs(org) == before + 1
    senior = MetricResult.objects.for_organization(org).filter(
        key="senior_touch_rate", dimension="overall"
    )
    assert sum(senior.values_list("n", flat=True)) == 25


@committing
def test_a_rolled_back_change_recomputes_nothing(admin, project, days_ago):
    before = runs(admin.organization)
    with pytest.raises(RuntimeError), transaction.atomic():
        touchpoint_create(actor=admin, client=project.client_id, kind="call", at=days_ago(1))
        raise RuntimeError("boom")
    assert runs(admin.organization) == before
    # ... and the next committed change still recomputes.
    touchpoint_create(actor=admin, client=project.client_id, kind="call", at=days_ago(1))
    assert runs(admin.organization) == before + 1


@committing
def test_a_queued_recompute_absorbs_later_changes(admin, project, days_ago, monkeypatch):
    org = admin.organization
    before = runs(org)
    # A refresh is already handed to the broker (its delivery has not started): changes ride
    # on it (each its own outbox row, not handed again), the ones further back lowering its
    # reach when it absorbs them.
    queued = OutboxMessage.objects.create(
        organization=org,
        kind="task",
        dedupe_key=pending.DEDUPE_KEY,
        payload={
            "task": pending.TASK,
            "kwargs": {
                "organization_id": org.pk,
                "coalesced": True,
                "reach": pending.reach_of(days_ago(1)),
            },
        },
        handed_at=timezone.now(),
    )
    for i in range(10):
        touchpoint_create(actor=admin, client=project.client_id, kind="call", at=days_ago(i + 1))
    assert runs(org) == before
    waiting = OutboxMessage.objects.for_organization(org).filter(status="pending")
    assert waiting.count() == 11
    # The queued one is delivered: it absorbs the others (reaching back to the earliest
    # change) and recomputes once; the next change hands its own.
    refreshed = []
    original = engine.recompute

    def spy(**kwargs):
        refreshed.append(kwargs["since"])
        return original(**kwargs)

    monkeypatch.setattr(engine, "recompute", spy)
    assert outbox_deliver(message_id=queued.pk, organization_id=org.pk) == "done"
    assert runs(org) == before + 1
    assert len(refreshed) == 1 and abs(refreshed[0] - days_ago(10)) < dt.timedelta(seconds=1)
    assert not waiting.exists()
    assert outbox_deliver(message_id=queued.pk, organization_id=org.pk) == "skipped"
    touchpoint_create(actor=admin, client=project.client_id, kind="call", at=days_ago(1))
    assert runs(org) == before + 2


@committing
def test_request_recompute_by_role(org, make_actor, project):
    before = runs(org)
    for role in (Role.ADMIN, Role.EXECUTIVE, Role.ACCOUNT_MANAGER, Role.PROJECT_MANAGER):
        run = metrics_recompute_request(actor=make_actor(org, role))
        assert run.status == RunStatus.SUCCEEDED  # eager: already done
        assert run.trigger == "request" and run.task_id
    with pytest.raises(PermissionDeniedError):
        metrics_recompute_request(actor=make_actor(org, Role.VIEWER))
    assert runs(org) == before + 4


def test_request_while_one_is_queued_follows_it(admin, project):
    queued = MetricRun.objects.create(
        organization=admin.organization, trigger="request", task_id="abc"
    )
    assert metrics_recompute_request(actor=admin).pk == queued.pk
    assert runs(admin.organization) == 1


def test_task_for_a_deleted_organization_does_nothing(db):
    assert metrics_recompute_task.delay(organization_id=987654).get() == 0


def test_nightly_schedule_recomputes_every_organization(db):
    orgs = [OrganizationFactory() for _ in range(3)]
    for o in orgs:
        ProjectFactory(client=ClientFactory(organization=o))
    entry = app.conf.beat_schedule["metrics-nightly"]
    assert entry["task"] == "metrics.tasks.metrics_recompute_all_task"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {30})
    assert metrics_recompute_all_task.delay().get() == 3
    for o in orgs:
        assert runs(o) == 1 and rows(o) == 0  # opened projects only: nothing decided yet


def test_task_options():
    assert metrics_recompute_task.acks_late is True
    assert metrics_recompute_task.reject_on_worker_lost is True
    assert metrics_recompute_task.max_retries == 5
    from django.db import InterfaceError, OperationalError

    assert set(metrics_recompute_task.autoretry_for) == {OperationalError, InterfaceError}
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit


def test_compute_metrics_command(admin, project, days_ago, other_admin):
    project_transition(actor=admin, project_id=project.pk, to="initiate", at=days_ago(5))
    out = StringIO()
    call_command("compute_metrics", "--org", admin.organization.slug, stdout=out)
    assert f"{admin.organization.slug}: " in out.getvalue()
    assert rows(admin.organization) > 0
    assert MetricRun.objects.for_organization(admin.organization).get().trigger == "command"
    out = StringIO()
    call_command("compute_metrics", stdout=out)
    assert "for 2 organization(s)" in out.getvalue()
    with pytest.raises(CommandError, match="No organization with slug 'nope'"):
        call_command("compute_metrics", "--org", "nope")


def test_recompute_replaces_the_whole_set(admin, project, days_ago):
    org = admin.organization
    project_transition(actor=admin, project_id=project.pk, to="initiate", at=days_ago(5))
    metrics_recompute(organization=org)
    first = rows(org)
    # A stale row (a dimension value that no longer exists) disappears on the next recompute.
    MetricResult.objects.create(
        organization=org, key="win_rate", dimension="segment", dimension_value="gone",
        period="2020-01", value=1, n=1, computed_at=project.opened_at,
    )  # fmt: skip
    metrics_recompute(organization=org)
    assert rows(org) == first
    assert not MetricResult.objects.for_organization(org).filter(dimension_value="gone").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_recomputes_leave_one_complete_set(db):
    org = OrganizationFactory()
    actor = Actor.system(org)
    client = ClientFactory(organization=org)
    for i in range(5):
        p = ProjectFactory(client=client)
        project_transition(actor=actor, project_id=p.pk, to="initiate" if i % 2 else "lost")
    expected = metrics_recompute(organization=org)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work():
        try:
            barrier.wait()
            metrics_recompute(organization=org)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert rows(org) == expected > 0


def test_staff_admin_lists_metrics_of_every_organization(admin_client):
    for name in ("Alpha", "Beta"):
        o = OrganizationFactory(name=f"{name} CDMO")
        MetricRun.objects.create(organization=o, trigger="command")
        MetricResult.objects.create(
            organization=o, key="nps", dimension="overall", dimension_value="all",
            period="2026-01", value=10, numerator=1, denominator=10, n=10,
            computed_at=timezone.now(),
        )  # fmt: skip
    for path in ("metricresult", "metricrun"):
        page = admin_client.get(f"/admin/metrics/{path}/").content.decode()
        assert "Alpha CDMO" in page and "Beta CDMO" in page


def test_old_finished_runs_are_pruned(admin, project):
    org = admin.organization
    old = MetricRun.objects.create(organization=org, status=RunStatus.SUCCEEDED)
    stuck = MetricRun.objects.create(organization=org, status=RunStatus.QUEUED)
    recent = MetricRun.objects.create(organization=org, status=RunStatus.FAILED)
    MetricRun.objects.for_organization(org).filter(pk__in=[old.pk, stuck.pk]).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    metrics_recompute(organization=org)
    left = set(MetricRun.objects.for_organization(org).values_list("pk", flat=True))
    assert left == {stuck.pk, recent.pk}


def test_a_run_whose_task_was_lost_does_not_stay_queued(admin, project):
    org = admin.organization
    lost = MetricRun.objects.create(organization=org, trigger="request", task_id="lost")
    fresh = MetricRun.objects.create(organization=org, trigger="request", task_id="fresh")
    other = MetricRun.objects.create(organization=OrganizationFactory(), trigger="request")
    MetricRun.objects.unscoped_dangerously().filter(pk__in=[lost.pk, other.pk]).update(
        created_at=timezone.now() - dt.timedelta(minutes=61)
    )
    metrics_recompute_task.delay(organization_id=org.pk)
    lost.refresh_from_db()
    assert lost.status == RunStatus.FAILED and "its task was lost" in lost.error
    fresh.refresh_from_db()
    other.refresh_from_db()
    assert fresh.status == other.status == RunStatus.QUEUED  # recent; another organization's
