"""Ponder settings, read from the environment (documented in README.md)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ

from .env import (
    bundled_redis_socket,
    celery_broker_url,
    envbool,
    envdays,
    envint,
    envlist,
    envmodels,
    envmoney,
    envoptint,
    envrate,
    load_secret_key,
    media_storage,
)
from .proxies import parse_networks

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PONDER_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = load_secret_key(VAR_DIR)
DEBUG = envbool("DJANGO_DEBUG", "0")
HTTPS = envbool("DJANGO_HTTPS", "0")
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
# Behind TLS only https:// origins may post; plain http (127.0.0.1 in development) both.
CSRF_TRUSTED_ORIGINS = [
    f"{scheme}://{host}"
    for host in ALLOWED_HOSTS
    if host != "*"
    for scheme in (("https",) if HTTPS else ("http", "https"))
]
# Peers whose X-Forwarded-Proto / X-Forwarded-For are believed (config.proxies).
TRUSTED_PROXIES = parse_networks(envlist("PONDER_TRUSTED_PROXIES", "127.0.0.1,::1"))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "accounts",
    "chat",
]

MIDDLEWARE = [
    # First: everything after it (SSL redirect, is_secure, axes) sees only trusted values.
    "config.proxies.TrustedProxyMiddleware",
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.HealthCheckMiddleware",  # /healthz for any Host (probes use IPs)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.language.middleware.UserLanguageMiddleware",  # a signed-in user's own pick wins
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    # Turns a lockout into the 429 page. Below it only sync middleware, so axes runs in
    # its sync mode (its async path mixes up the lockout callable's arguments in 8.3).
    "axes.middleware.AxesMiddleware",
    "chat.http.PonderErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chat.context_processors.upstream_mode",
                "accounts.context_processors.sign_in_options",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
_env = environ.Env()
DATABASES = {
    "default": _env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # Web, worker and tests write concurrently: WAL lets readers proceed, IMMEDIATE
        # takes the write lock up front so busy-waiting (timeout) works instead of failing.
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file (not :memory:) so worker and daphne processes share it; per process so two
    # test runs in one checkout never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
else:
    # Under ASGI a persistent connection per request thread exhausts PostgreSQL; a bounded
    # pool per process makes excess requests wait instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The pool then tests a connection as it hands it out: one the server dropped
    # (a restart, pg_terminate_backend) is replaced, not found dead by the query.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("PONDER_DB_POOL_SIZE", "20")),
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# django-axes first: it refuses locked-out clients before the password is even checked.
# Then passwords (refused for all but superusers when PONDER_PASSWORD_LOGIN=0), then
# company sign-in, which answers only the OpenID Connect callback (accounts.oidc).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PasswordBackend",
    "accounts.oidc.backend.OIDCBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Company sign-in (OpenID Connect, mozilla-django-oidc; accounts.oidc) -----------------
# Unset issuer: no company sign-in. Endpoints come from the issuer's discovery document,
# fetched on first use (accounts.oidc.discovery), so Ponder starts while the issuer is down.
OIDC_ISSUER = os.environ.get("PONDER_OIDC_ISSUER", "").strip()
OIDC_RP_CLIENT_ID = os.environ.get("PONDER_OIDC_CLIENT_ID", "").strip()
OIDC_RP_CLIENT_SECRET = os.environ.get("PONDER_OIDC_CLIENT_SECRET", "")
OIDC_GROUPS_CLAIM = os.environ.get("PONDER_OIDC_GROUPS_CLAIM", "").strip() or "groups"
OIDC_NAME = os.environ.get("PONDER_OIDC_NAME", "").strip() or "your company account"
OIDC_RP_SCOPES = os.environ.get("PONDER_OIDC_SCOPES", "").strip() or "openid email profile"
if OIDC_ISSUER and not OIDC_RP_CLIENT_ID:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("PONDER_OIDC_ISSUER is set: set PONDER_OIDC_CLIENT_ID too")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the sign-out at the issuer
OIDC_TIMEOUT = 10
# HTTP Basic at the token endpoint: the method every issuer must support (RFC 6749 §2.3.1).
OIDC_TOKEN_USE_BASIC_AUTH = True
LOGIN_REDIRECT_URL_FAILURE = "login"
# 0: only superusers may sign in with a password (here and at /admin/login/).
PASSWORD_LOGIN = envbool("PONDER_PASSWORD_LOGIN", "1")

# --- Login throttling (django-axes) -----------------------------------------------------
# Counted per username (any address: a slow distributed guess at one account) and per
# client address (any username: password spraying). Staff often share one office NAT
# address, so that count is allowed more failures (accounts.password.throttling).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = 5  # per username
LOGIN_IP_FAILURE_LIMIT = 20  # per client address
AXES_HANDLER = "accounts.password.throttling.PonderAxesHandler"
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.password.throttling.lockout_response"
# The address config.proxies.TrustedProxyMiddleware settled on, never a raw header.
AXES_CLIENT_IP_CALLABLE = "config.proxies.client_ip"
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# --- Redis: broker, replay buffers and live streams, cancel flags ----------------------
REDIS_URL = os.environ.get("REDIS_URL") or f"unix://{bundled_redis_socket(VAR_DIR)}"
CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
# Separate queues let several Ponder stacks share one Redis (the test suite runs two).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("PONDER_CELERY_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A reply can think for many minutes; the broker must not redeliver it meanwhile.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
# A send with the broker down gives up within seconds (the reply waits in the database
# for the reaper to queue it) instead of holding the request for Celery's default retries.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Upstream (Model Studio or the bundled simulator) -----------------------------------
DASHSCOPE_API_KEY = os.environ.get("DASHSCOPE_API_KEY", "")
DASHSCOPE_BASE_URL = os.environ.get("DASHSCOPE_BASE_URL", "https://dashscope-intl.aliyuncs.com")
DASHSCOPE_PROTOCOL = os.environ.get("DASHSCOPE_PROTOCOL", "openai")
if DASHSCOPE_PROTOCOL not in ("openai", "dashscope"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DASHSCOPE_PROTOCOL must be 'openai' or 'dashscope'")
# A fast model, asked with thinking off, writes each conversation's title.
PONDER_TITLE_MODEL = os.environ.get("PONDER_TITLE_MODEL", "qwen-flash")
# Fair use (chat/fairuse/admission.py): replies one user may have pending or streaming,
# and how fast one user may send.
MAX_ACTIVE_REPLIES = envint("PONDER_MAX_ACTIVE_REPLIES", "3", minimum=1)
SEND_RATE = envrate("PONDER_SEND_RATE", "20/minute")
# The policy of users in no group (accounts/policy.py); a group's policy overrides each.
DEFAULT_ALLOWED_MODELS = envmodels("PONDER_ALLOWED_MODELS")  # empty: every model
DEFAULT_MAX_THINKING_BUDGET = envoptint("PONDER_MAX_THINKING_BUDGET")
DEFAULT_MONTHLY_TOKENS = envoptint("PONDER_MONTHLY_TOKENS")
DEFAULT_MONTHLY_BUDGET = envmoney("PONDER_MONTHLY_BUDGET")
BUDGET_CURRENCY = os.environ.get("PONDER_BUDGET_CURRENCY", "USD").strip().upper() or "USD"
# Set by `make run` when it started the simulator because no key was given.
PONDER_SIMULATOR = envbool("PONDER_SIMULATOR", "0")

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "uploads"
# Where uploads live: `local` (MEDIA_ROOT), `database`, or `s3://bucket/prefix`.
PONDER_MEDIA_STORAGE = os.environ.get("PONDER_MEDIA_STORAGE", "local")
STORAGES = {
    "default": media_storage(PONDER_MEDIA_STORAGE, MEDIA_ROOT),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Not in WhiteNoise's table; browsers take the manifest either way, but say what it is.
WHITENOISE_MIMETYPES = {".webmanifest": "application/manifest+json"}

# --- Languages ----------------------------------------------------------------------------
# The interface languages (CONTRACT §5): the user's pick (User.language), else the
# language cookie (the sign-in page's picker), else the browser's Accept-Language.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("ja", "日本語"),
    ("zh-hans", "简体中文"),
    ("zh-hant", "繁體中文"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Uploads ------------------------------------------------------------------------------
# Images larger than this on their longest side are downscaled when uploaded (and, if
# stored before that, when sent): beyond it the model's own resizing gains little detail.
IMAGE_MAX_SIDE = int(os.environ.get("PONDER_IMAGE_MAX_SIDE", "2048"))
# The base64 bytes of images one upstream request may carry: a message's own attachments
# above it are refused; older turns' images past it are sent as "[image]" placeholders.
MAX_REQUEST_IMAGE_BYTES = int(os.environ.get("PONDER_MAX_REQUEST_IMAGE_BYTES", "20000000"))

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the ES modules read it for X-CSRFToken
CSRF_FAILURE_VIEW = "chat.http.csrf_failure"
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Over plain http on 127.0.0.1 (DJANGO_HTTPS=0) cookies must not be Secure, or login breaks.
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health checks and scrapes come over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# `text` for people, `json` (one object per line, with the request id) for log pipelines.
LOG_FORMAT = os.environ.get("PONDER_LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("PONDER_LOG_FORMAT must be 'text' or 'json'")
if LOG_FORMAT == "json":
    import logging

    logging.captureWarnings(True)  # Python warnings become JSON records, not stderr text
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "chat.observability.logcontext.JsonFormatter"},
    },
    "filters": {"request_id": {"()": "chat.observability.logcontext.RequestIdFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

# --- Retention: message text, reasoning and images older than this many days are purged
# (usage and cost stay). None: kept until an administrator removes them.
RETENTION_DAYS = envdays("PONDER_RETENTION_DAYS")

# --- Metrics: GET /metrics (web) and each worker's own port; both need the bearer token --------
METRICS_TOKEN = os.environ.get("PONDER_METRICS_TOKEN", "")
_worker_metrics_port = os.environ.get("PONDER_WORKER_METRICS_PORT", "")
WORKER_METRICS_PORT = int(_worker_metrics_port) if _worker_metrics_port.strip() else None

# --- Streaming tunables (seconds) ----------------------------------------------------------
UPSTREAM_READ_TIMEOUT = float(os.environ.get("PONDER_UPSTREAM_READ_TIMEOUT", "300"))
STREAM_COALESCE_SECONDS = float(os.environ.get("PONDER_STREAM_COALESCE_SECONDS", "0.05"))
STREAM_PERSIST_SECONDS = float(os.environ.get("PONDER_STREAM_PERSIST_SECONDS", "1.0"))
STREAM_HEARTBEAT_SECONDS = float(os.environ.get("PONDER_STREAM_HEARTBEAT_SECONDS", "10"))
STREAM_STALE_SECONDS = float(os.environ.get("PONDER_STREAM_STALE_SECONDS", "45"))
REAPER_INTERVAL_SECONDS = float(os.environ.get("PONDER_REAPER_INTERVAL_SECONDS", "15"))
# Few on purpose: ORM work in these threads takes the GIL from the loop that relays every
# stream (eight threads at 100 replies ending at once: p99 406 ms; two: 193 ms).
WORKER_DB_THREADS = int(os.environ.get("PONDER_WORKER_DB_THREADS", "2"))
