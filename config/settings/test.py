"""Test settings: everything from base, plus speed and isolation for the suite."""

import os

os.environ.setdefault("DJANGO_ALLOW_DEV_SECRET", "1")

from .base import *  # noqa: F403
from .base import DATABASES, env

# Unit tests call services directly, outside any request, task or command: without a scope
# they read across organizations in the database (the application's scoping still applies).
# Requests (the test client, the live server), tasks and commands enter their own scope.
TENANCY_DEFAULT_SCOPE = "all"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client and the browser tests' live server speak plain HTTP.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run tasks in-process; the real-worker tests start their own worker on REDIS_URL.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
# Per-process cache: the coalescing flag of one test never leaks into another (or another
# run sharing the Redis server). The real-worker tests switch to Redis themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env.str(
    "DATABASE_URL", default=""
):
    # A file (not :memory:) so threaded tests share one database; one per test run, so two
    # runs side by side (a developer's and an editor's) never share it.
    DATABASES["default"]["TEST"] = {"NAME": f"{DATABASES['default']['NAME']}.test-{os.getpid()}"}
