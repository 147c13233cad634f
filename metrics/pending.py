"""The one queued metrics refresh per organization, and how far back it must reach.

A change that finds no refresh queued claims the slot (its caller queues the task); a change
that finds one lowers the slot's reach to its own `since` if it goes further back. The task
takes the slot when it starts, so every change is either inside the reach it took or claims
a new slot and queues the next task. With Redis both steps are atomic (a Lua script and
GETDEL), so concurrent web processes and workers never lose a change; without Redis (the
embedded default, tasks run in-process) a lock does the same within the process.

A reach is microseconds since the epoch; `FULL` (-1) reaches everything.
"""

from __future__ import annotations

import datetime as dt
import threading

from django.conf import settings

FULL = -1
TTL = 6 * 3600  # a slot whose task was lost expires; the nightly rebuild covers it

_CLAIM = """
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
if tonumber(ARGV[1]) < tonumber(current) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 0
"""

_local: dict[str, int] = {}
_lock = threading.Lock()
_client = None


def _key(organization_id: int) -> str:
    database = settings.DATABASES["default"]["NAME"]
    return f"cdmo:{database}:metrics:reach:{organization_id}"


def _shared() -> bool:
    """Redis when tasks go to a worker; in-process when they run eagerly (tests, embedded)."""
    return bool(settings.REDIS_URL) and not settings.CELERY_TASK_ALWAYS_EAGER


def _redis():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def reach_of(since: dt.datetime | None) -> int:
    if since is None:
        return FULL
    return int(since.timestamp() * 1_000_000)


def since_of(reach: int | None) -> dt.datetime | None:
    if reach is None or reach == FULL:
        return None
    return dt.datetime.fromtimestamp(reach / 1_000_000, tz=dt.UTC)


def claim_or_lower(organization_id: int, since: dt.datetime | None) -> bool:
    """True: no refresh was queued, the caller queues one. False: the queued one now reaches
    back to `since` too."""
    reach = reach_of(since)
    if _shared():
        return bool(_redis().eval(_CLAIM, 1, _key(organization_id), reach, TTL))
    with _lock:
        key = _key(organization_id)
        if key not in _local:
            _local[key] = reach
            return True
        _local[key] = min(_local[key], reach)
        return False


def take(organization_id: int) -> int | None:
    """The task's reach, taken when it starts (None: no slot, e.g. a requested rebuild)."""
    if _shared():
        value = _redis().getdel(_key(organization_id))
        return None if value is None else int(value)
    with _lock:
        return _local.pop(_key(organization_id), None)
