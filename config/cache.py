"""The shared cache: Redis, and while Redis does not answer, a per-process memory cache.

Its users are throttles (invalid API keys per address, wrong second-factor codes, password
reset e-mails per address): with Redis down they keep counting, per process, instead of
failing every request that consults them (an API request is one). After a failure the
memory cache serves for `RETRY_AFTER` seconds before Redis is tried again, so a Redis that
hangs costs one short socket timeout, not one per call.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
RETRY_AFTER = 5.0
DOWN = (RedisConnectionError, RedisTimeoutError)
METHODS = (
    "add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "decr",
    "set_many", "delete_many", "clear",
)  # fmt: skip


class FallbackRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        local = {k: v for k, v in params.items() if k != "OPTIONS"}
        self._fallback = LocMemCache(f"redis-fallback-{id(self)}", local)
        self._down_until = 0.0


def _tolerant(name: str):
    def method(self, *args, **kwargs):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(RedisCache, name)(self, *args, **kwargs)
            except DOWN as exc:
                self._down_until = time.monotonic() + RETRY_AFTER
                log.warning("cache: Redis does not answer (%s); the process cache serves", exc)
        return getattr(self._fallback, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in METHODS:
    setattr(FallbackRedisCache, _name, _tolerant(_name))
