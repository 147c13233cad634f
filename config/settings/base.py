"""Settings for every environment; the environment decides the rest (django-environ).

DATABASE_URL  absent: SQLite under var/ (WAL, IMMEDIATE transactions); else e.g. postgres://...
REDIS_URL     absent: Celery runs tasks eagerly in-process; else the Redis broker/result backend.
DJANGO_SECRET_KEY, DJANGO_DEBUG, DJANGO_ALLOWED_HOSTS as usual.
DJANGO_SESSION_COOKIE_AGE  seconds a login lasts (default 43200, 12 hours); "log out
              everywhere" on the Security page ends every other session at once.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.logs import default_format, logging_config, structlog_configure

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
_DEV_SECRET = "insecure-dev-only-secret-key-change-me"  # noqa: S105 - refused outside DEBUG below
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET)
if (
    not DEBUG
    and SECRET_KEY == _DEV_SECRET
    and not env.bool("DJANGO_ALLOW_DEV_SECRET", default=False)
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a real secret when DJANGO_DEBUG is off."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "journey",
    "engagement",
    "metrics",
]

MIDDLEWARE = [
    # First: /healthz and /readyz answer before the HTTPS redirect, the host check, sessions
    # and the login, organization and second-factor rules (config/health.py).
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The request id (X-Request-ID), the request's log line, X-App-Version on the API.
    "config.middleware.RequestContextMiddleware",
    # The Content-Security-Policy header on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.ActiveOrganizationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the organization is known: the second login step, and admins' required 2FA.
    "accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.organization",
                "engagement.context_processors.alert_badge",
                "config.version.context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside a writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue (busy timeout) instead of failing mid-transaction with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that does not answer fails a connection (and /readyz) in seconds, not minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
# PostgreSQL row-level security (accounts/rls.py). In production the app connects as a role
# that owns no table and cannot bypass RLS (DATABASE_URL) and `migrate` connects as the
# owner (DATABASE_OWNER_URL: same database, the owner's user and password); after each
# migration the owner grants the app role what it needs. Without DATABASE_OWNER_URL one role
# does both (development; a superuser bypasses RLS, so production must not do that).
DATABASE_OWNER = (
    env.db_url("DATABASE_OWNER_URL") if env.str("DATABASE_OWNER_URL", default="") else None
)
DATABASE_APP_ROLE = DATABASES["default"].get("USER", "") if DATABASE_OWNER else ""
# Which organization's rows the database shows when no scope was entered ("none": none).
TENANCY_DEFAULT_SCOPE = "none"
# The application's organization filter (TenantQuerySet.for_organization); tests switch it
# off to show that row-level security alone keeps tenants apart. Never off in production.
TENANCY_APP_FILTER = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out e-mail and address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After AXES_FAILURE_LIMIT wrong passwords for one e-mail from one address, that pair is
# locked out for AXES_COOLOFF_TIME (hours); a success resets the count.
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("DJANGO_LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the login form's e-mail field (axes would read "email")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A login lasts this long (seconds), then the browser must log in again.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=12 * 3600)
# A password-reset link works once, for this long (seconds).
PASSWORD_RESET_TIMEOUT = env.int("DJANGO_PASSWORD_RESET_TIMEOUT", default=3600)
# At most this many reset e-mails per address per hour (more requests show the same page).
PASSWORD_RESET_EMAILS_PER_HOUR = env.int("DJANGO_PASSWORD_RESET_EMAILS_PER_HOUR", default=3)
# Authenticator apps show this name beside the account.
OTP_TOTP_ISSUER = "CDMO Journey"
# After this many invalid API keys from one address in API_KEY_FAILURE_WINDOW seconds, that
# address gets 429 (with Retry-After) for every key until the window ends.
API_KEY_FAILURE_LIMIT = env.int("DJANGO_API_KEY_FAILURE_LIMIT", default=10)
API_KEY_FAILURE_WINDOW = env.int("DJANGO_API_KEY_FAILURE_WINDOW", default=900)

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root before collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Security -------------------------------------------------------------------------------
# Production (DEBUG off) is HTTPS-only by default: redirect, HSTS, Secure cookies. Behind a
# TLS-terminating proxy that sets X-Forwarded-Proto, set DJANGO_BEHIND_TLS_PROXY=1.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# A load balancer's plain-HTTP probe is not redirected (HealthCheckMiddleware answers these
# before SecurityMiddleware anyway; this keeps them exempt should it move).
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
# A strict Content-Security-Policy, in DEBUG too (so a violation shows while developing): our
# own files only, no 'unsafe-inline', no 'unsafe-eval'. Templates therefore carry no inline
# <script>, <style>, style="" or on*= / hx-on attributes: JS goes in static/js, CSS in
# static/css (tests/web/test_csp.py scans the templates and loads the pages in Chromium).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="journey@cdmo.example")
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=10)
# For the file-based backend (one file per message; used by the outage test).
EMAIL_FILE_PATH = env.str("DJANGO_EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
# Fail fast: a request that publishes a task while the broker is down must not wait. Side
# effects go through the outbox (accounts/outbox.py): a failed publish is logged, the row
# stays in the database and the beat task hands it over when the broker is back. So no
# publish retry loop, short socket timeouts, and no result subscription per published task
# (with Redis as result backend, that subscription retried for ~19 s; nothing reads results).
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_IGNORE_RESULT = True
_BROKER_CONNECT_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=0.5)
_BROKER_SOCKET_TIMEOUT = env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_TIMEOUT = _BROKER_CONNECT_TIMEOUT
# Workers keep reconnecting to a broker that went away (they wait it out; requests do not).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = _BROKER_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = _BROKER_SOCKET_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task (its worker died) goes back to the queue after this many seconds.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": _BROKER_CONNECT_TIMEOUT,
    "socket_timeout": _BROKER_SOCKET_TIMEOUT,
    # Publishing connects once, without kombu's retry-and-sleep loop (about 2 s per try); a
    # worker's consumer has its own reconnect policy (broker_connection_* above).
    "max_retries": 0,
}
# --- The outbox (accounts/outbox.py) ---
# The beat task hands over waiting outbox rows this often (seconds).
OUTBOX_FLUSH_SECONDS = env.float("OUTBOX_FLUSH_SECONDS", default=30)
# A row handed this long ago (seconds) and still not performed is handed again.
OUTBOX_REHAND_SECONDS = env.int("OUTBOX_REHAND_SECONDS", default=300)
# A delivery's time limit, and the lease its claim takes on the row (longer: a second
# delivery of the same row never starts while the first may still run).
OUTBOX_DELIVERY_TIME_LIMIT = env.int("OUTBOX_DELIVERY_TIME_LIMIT", default=120)
OUTBOX_LEASE_SECONDS = max(OUTBOX_REHAND_SECONDS + 60, OUTBOX_DELIVERY_TIME_LIMIT * 3)
# Finished rows are kept this many days (the admin shows them), then pruned by the flush.
OUTBOX_KEEP_DAYS = env.int("OUTBOX_KEEP_DAYS", default=14)
# Webhooks (accounts.webhooks): seconds per delivery; failed events in a row before an
# endpoint is disabled; and, for tests and local use only, deliveries to loopback, private
# and link-local addresses (refused otherwise: server-side request forgery).
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10)
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=5)
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
CELERY_BEAT_SCHEDULE = {
    "outbox-flush": {
        "task": "accounts.tasks.outbox_flush_task",
        "schedule": OUTBOX_FLUSH_SECONDS,
    },
    "metrics-nightly": {
        "task": "metrics.tasks.metrics_recompute_all_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # Survey reminders, alert rules and health snapshots (journey/tasks.py).
    "engagement-daily": {
        "task": "engagement.tasks.engagement_daily_all_task",
        "schedule": crontab(hour=5, minute=0),
    },
}

# --- Engagement: gate surveys, alerts, client health ----------------------------------------
# Absolute base of links in e-mails (the survey link), without a trailing slash.
SITE_URL = env.str("DJANGO_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# An e-mailed invitation to join an organization works once, for this many days.
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)
SURVEY_LINK_DAYS = env.int("SURVEY_LINK_DAYS", default=30)
SURVEY_REMINDER_DAYS = env.int("SURVEY_REMINDER_DAYS", default=7)
# A phase move back-dated further than this (a history import) sends no gate survey.
SURVEY_GATE_MAX_AGE_DAYS = env.int("SURVEY_GATE_MAX_AGE_DAYS", default=7)
# A request still unanswered this many days after it was sent raises an alert.
SURVEY_UNANSWERED_ALERT_DAYS = env.int("SURVEY_UNANSWERED_ALERT_DAYS", default=14)
HEALTH_AT_RISK_BELOW = env.int("HEALTH_AT_RISK_BELOW", default=60)

# --- Cache (shared by web and workers: the throttles of invalid API keys, second-factor codes
# and password-reset e-mails count there) ----------------------------------------------------
# Short socket timeouts, and while Redis does not answer a per-process memory cache serves
# (config/cache.py): a Redis outage never fails a request, the throttles keep counting.
CACHES = {
    "default": (
        {
            "BACKEND": "config.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="cdmo"),
            "OPTIONS": {
                "socket_connect_timeout": _BROKER_CONNECT_TIMEOUT,
                "socket_timeout": _BROKER_SOCKET_TIMEOUT,
            },
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Metrics --------------------------------------------------------------------------------
# Changes queue at most one recompute per organization, started this many seconds later.
METRICS_COALESCE_SECONDS = env.int("METRICS_COALESCE_SECONDS", default=5)
# A run still queued or running this many minutes after it was asked for is marked failed
# (its task was lost); a later recompute covers what it would have done.
METRICS_RUN_STALE_MINUTES = env.int("METRICS_RUN_STALE_MINUTES", default=60)
# Run for each new organization (accounts.services.organization_setup), in its transaction.
ORGANIZATION_SETUP = ["engagement.services.playbooks.playbooks_ensure"]
METRICS_AUTO_RECOMPUTE = env.bool("METRICS_AUTO_RECOMPUTE", default=True)
# PostgreSQL work_mem for a recompute's transaction (its sorts and windows); "" keeps the server's.
METRICS_PG_WORK_MEM = env.str("METRICS_PG_WORK_MEM", default="32MB")
# Test seam for the worker-crash test only: a pause between the engine's statements, inside
# the recompute's transaction, so a test can kill a worker in the middle of one.
METRICS_STATEMENT_DELAY = env.float("METRICS_STATEMENT_DELAY", default=0.0)
CELERY_ACCEPT_CONTENT = ["json"]

# --- Logging --------------------------------------------------------------------------------
# JSON lines (time, level, logger, event, request id, user, organization; secrets masked) or,
# in development, readable lines: config/logs.py.
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default=default_format(DEBUG))
LOGGING = logging_config(fmt=LOG_FORMAT, level=env.str("DJANGO_LOG_LEVEL", default="INFO"))
structlog_configure()
# Celery keeps this configuration (no handlers of its own on the root logger).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /readyz: seconds the broker may take to answer.
READYZ_TIMEOUT = env.float("READYZ_TIMEOUT", default=1.0)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The key first: its WWW-Authenticate header makes unauthenticated calls a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.OrganizationPermission"],
    "DEFAULT_PAGINATION_CLASS": "accounts.api.permissions.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["accounts.api.parsers.SafeJSONParser"],
    "EXCEPTION_HANDLER": "accounts.api.base.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CDMO Journey API",
    "DESCRIPTION": (
        "Clients, contacts, projects and their journey (assess, initiate, plan, execute, "
        "close-out), milestones, touchpoints and feedback of one organization. Authenticate "
        "with `Authorization: Bearer <api key>`; the key's organization is the one you see. "
        "Errors are JSON objects: 400 with messages per field, 401, 403, 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ModalityEnum": "journey.models.Modality",
        "PhaseEnum": "journey.models.Phase",
        "ProjectStatusEnum": "journey.models.ProjectStatus",
        "ClientStatusEnum": "journey.models.ClientStatus",
        "TouchpointKindEnum": "journey.models.TouchpointKind",
        "FeedbackKindEnum": "journey.models.FeedbackKind",
        "TransitionKindEnum": "journey.models.TransitionKind",
        "SegmentEnum": "journey.models.Segment",
    },
    "SECURITY": [{"ApiKeyAuth": []}],
}
