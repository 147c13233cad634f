"""Celery application. Eager (in-process) when REDIS_URL is absent; see settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("cdmo_journey")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Task log lines carry the task id, its organization and the request that published it.
from config.logs import connect_celery  # noqa: E402

connect_celery()
