"""gunicorn's settings (`gunicorn -c python:config.gunicorn config.wsgi`): its own lines in
the app's log format (config/logs.py), no access log (the app logs each request once, with
its request id, user and organization; without tokens). Bind address and workers from the
command line or GUNICORN_CMD_ARGS."""

import os

from config.logs import default_format, logging_config

_debug = os.environ.get("DJANGO_DEBUG", "").lower() in {"1", "true", "yes", "on"}
logconfig_dict = logging_config(
    fmt=os.environ.get("DJANGO_LOG_FORMAT") or default_format(_debug),
    level=os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
)
accesslog = None
graceful_timeout = 20
