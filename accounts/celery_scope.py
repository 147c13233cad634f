"""Celery tasks run in their organization's scope (row-level security, `accounts.rls`).

Tasks take `organization_id` as a keyword argument (STYLE: ids in, re-fetch); a task that has
one runs scoped to it, whether on a worker or eagerly inside a request. A task without one
(the nightly fan-out, the outbox flush) keeps the scope it was started in (on a worker: none)
and crosses organizations only through `all_organizations_dangerously`.
"""

from __future__ import annotations

from celery.signals import task_postrun, task_prerun

from accounts.tenancy import organization_scope

_open: dict[str, list] = {}


def _enter(task_id=None, kwargs=None, **_extra) -> None:
    organization_id = (kwargs or {}).get("organization_id")
    if organization_id is None:
        return
    scope = organization_scope(int(organization_id))
    scope.__enter__()
    _open.setdefault(task_id, []).append(scope)


def _leave(task_id=None, **_extra) -> None:
    scopes = _open.get(task_id)
    if scopes:
        scopes.pop().__exit__(None, None, None)
        if not scopes:
            del _open[task_id]


def connect() -> None:
    task_prerun.connect(_enter, dispatch_uid="accounts.celery_scope.enter", weak=False)
    task_postrun.connect(_leave, dispatch_uid="accounts.celery_scope.leave", weak=False)
