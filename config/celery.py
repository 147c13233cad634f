"""Celery application. Eager (in-process) when REDIS_URL is absent; see settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("cdmo_journey")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
