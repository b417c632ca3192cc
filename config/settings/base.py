"""Settings shared by every environment. Values that differ per deployment come from the environment."""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    return default if value is None else [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "template_partials",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "curation",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.SessionIdleTimeoutMiddleware",
    "accounts.middleware.AdminMfaRequiredMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "audit.context.AuditContextMiddleware",
]

ROOT_URLCONF = "config.urls"

# Content-Security-Policy: every script and style comes from our own files (no inline code, no eval; htmx is
# configured without eval in base.html), so an injected <script> or style attribute does not run. A script that
# must be inline carries the request's nonce ({{ request.csp_nonce }}). Images may be data: URIs (the
# authenticator QR code).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
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
                "accounts.context_processors.session_idle",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL is None:
    (BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{BASE_DIR / 'var' / 'concord.sqlite3'}",
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves requests and runs a worker on one file. WAL lets readers carry on
    # while one connection writes; IMMEDIATE takes the write lock when a transaction begins, so two
    # writers queue for it instead of one failing with "database is locked" when it upgrades a read;
    # the timeout (seconds) is how long a writer queues before giving up.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": int(env("SQLITE_BUSY_TIMEOUT", "20")),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        **DATABASES["default"].get("OPTIONS", {}),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation pays off for long analytical queries, not for a page's short ones: at a million tasks
    # it spent more time compiling a query than running it (7.8 s of a release's 9.9 s count of reviews).
    DATABASES["default"]["OPTIONS"] = {"options": "-c jit=off", **DATABASES["default"].get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = env("CACHE_URL")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    # Files, not process memory: every process of the embedded default (server, worker, commands) sees one cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env("CONCORD_CACHE_DIR", str(BASE_DIR / "var" / "cache")),
        }
    }

# Sessions are read from the cache and written through to the database: one query less on every request,
# and a cache that loses an entry (or is cleared) falls back to the database row, so nobody is signed out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

# allauth: email login, no open sign-up (accounts.adapters closes it; invitations create users).
ACCOUNT_ADAPTER = "accounts.adapters.InviteOnlyAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# A password reset for an address with no account sends nothing: the form answers the same either way,
# and Concord does not mail strangers whatever address someone types.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Defaults spelled out so that turning rate limits off is a visible decision. They are counted in
# the default cache: Redis in a deployment, so every web process shares the same counters.
# Failed logins: the key is one account at one client address (accounts.adapters), so 5 wrong passwords
# lock that account from that address only; 20 failures a minute lock the address itself.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "20/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
# The client address for those limits: the entry CONCORD_TRUSTED_PROXIES from the right of X-Forwarded-For,
# as written by the proxies in front of Concord (0: no proxy, the connecting address; X-Forwarded-For is ignored).
CONCORD_TRUSTED_PROXIES = env("CONCORD_TRUSTED_PROXIES", "0")
if not CONCORD_TRUSTED_PROXIES.isdigit():
    raise ImproperlyConfigured(
        f"CONCORD_TRUSTED_PROXIES={CONCORD_TRUSTED_PROXIES!r} must be the number of proxies in front of Concord"
    )
ALLAUTH_TRUSTED_PROXY_COUNT = int(CONCORD_TRUSTED_PROXIES)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Concord"
# Production turns this on: admins must enrol a TOTP authenticator before using the app.
CONCORD_REQUIRE_ADMIN_MFA = env_bool("CONCORD_REQUIRE_ADMIN_MFA", False)
CONCORD_INVITATION_DAYS = int(env("CONCORD_INVITATION_DAYS", "7"))
# A signed-in session ends after this many minutes without activity; autosaves and polling do not count.
CONCORD_SESSION_IDLE_MINUTES = int(env("CONCORD_SESSION_IDLE_MINUTES", "15"))
# Browser features no page of Concord uses, switched off for every page (the Permissions-Policy header).
CONCORD_PERMISSIONS_POLICY = env(
    "CONCORD_PERMISSIONS_POLICY",
    "accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), payment=(), usb=()",
)
# Personal API tokens expire after this many days unless their owner picks a shorter life.
CONCORD_API_TOKEN_DAYS = int(env("CONCORD_API_TOKEN_DAYS", "90"))
# The audit trail keeps events this many days (6 years); `manage.py audit_prune` deletes older ones and leaves
# a signed summary of them.
CONCORD_AUDIT_RETENTION_DAYS = int(env("CONCORD_AUDIT_RETENTION_DAYS", "2192"))
# Imports: the largest file accepted (uploads and the CLI), and the largest single record or line.
CONCORD_IMPORT_MAX_BYTES = int(env("CONCORD_IMPORT_MAX_BYTES", str(512 * 1024 * 1024)))
CONCORD_IMPORT_MAX_RECORD_BYTES = int(env("CONCORD_IMPORT_MAX_RECORD_BYTES", str(1024 * 1024)))
# How many levels of objects and arrays one import record (or API request body) may nest; deeper is refused unread.
CONCORD_IMPORT_MAX_DEPTH = int(env("CONCORD_IMPORT_MAX_DEPTH", "64"))
# The largest request body other than uploaded files (Django's setting, here also the API's JSON limit).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2_621_440)))

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Concord <concord@localhost>")

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes anonymous requests answer 401, not 403.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Keyset pages: ?cursor= from the last answer's next/previous, ?page_size= up to 200 (curation.pagination).
    "DEFAULT_PAGINATION_CLASS": "curation.pagination.ApiCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Services refuse with Django's ValidationError: one handler answers 400 for every API view.
    "EXCEPTION_HANDLER": "curation.api.exceptions.api_exception_handler",
    # Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE or nested deeper than CONCORD_IMPORT_MAX_DEPTH are a 400, unparsed.
    "DEFAULT_PARSER_CLASSES": [
        "curation.api.parsers.BoundedJSONParser",
        "curation.api.parsers.BoundedFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Concord API",
    "DESCRIPTION": "Curate, review and export the data medical language models are tuned and judged on.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Operation ids and tags are named from the path after /api/ ("v1_projects_list", tag "v1"), as they were
    # when drf-spectacular guessed this prefix from all the routes, its own schema pages included: clients
    # generated from the schema keep their names now that those pages are not enumerated (config.urls).
    "SCHEMA_PATH_PREFIX": "/api",
    # One schema name per choice set: several serializers have a "format" or "status" field with other choices.
    "ENUM_NAME_OVERRIDES": {
        "ImportFormatEnum": "curation.models.ImportFormat",
        "ReleaseFormatEnum": "curation.models.ReleaseFormat",
        "TaskStatusEnum": "curation.models.TaskStatus",
        "ImportStatusEnum": "curation.models.ImportStatus",
        "ReleaseStatusEnum": "curation.models.ReleaseStatus",
        "ItemKindEnum": "curation.services.assignments.ITEM_KINDS",
        # A pairwise verdict, and the same pair's verdict shown the other way round: one choice set.
        "PairVerdictEnum": "curation.models.rubrics.PairVerdict",
    },
    # When a schema is generated: the views' @extend_schema annotations are applied (curation.api.schema_annotations)
    # and the API token's security scheme is registered (accounts.schema); neither loads at start.
    "PREPROCESSING_HOOKS": [
        "curation.api.schema_annotations.annotations_applied",
        "accounts.schema.token_scheme_registered",
    ],
    # 400, 401, 403 and 404 wherever they can happen, with their bodies: curation.api.schema.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "curation.api.schema.error_responses"],
}

# Celery. Jobs never run inside a request. With no broker configured (the embedded default) the queue
# is a folder of message files under var/jobs, read by the worker `make run` starts beside the web
# server; messages wait there while no worker runs, so queued jobs survive a restart.
# The folder queue has no host; naming "localhost" keeps kombu from warning on every command that queues a job.
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or "filesystem://localhost//"
if CELERY_BROKER_URL.startswith("filesystem://"):
    JOBS_DIR = Path(env("CONCORD_JOBS_DIR", str(BASE_DIR / "var" / "jobs")))
    for folder in ("queue", "control"):
        (JOBS_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(JOBS_DIR / "queue"),
        "data_folder_out": str(JOBS_DIR / "queue"),
        "control_folder": str(JOBS_DIR / "control"),
    }
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}
