"""A deployment: PostgreSQL, Redis, a Celery worker, HTTPS in front. Refuses to start half-configured."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, DATABASES, SECRET_KEY, env, env_bool

DEBUG = False
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env_bool("CONCORD_ALLOW_SQLITE"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL in production")
if not env("CELERY_BROKER_URL"):  # base falls back to a folder queue, which is for one machine
    raise ImproperlyConfigured("CELERY_BROKER_URL must be set in production (tasks need a worker)")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL", CELERY_BROKER_URL),
    }
}
CONCORD_REQUIRE_ADMIN_MFA = env_bool("CONCORD_REQUIRE_ADMIN_MFA", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The container health check asks for /healthz over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# HSTS for a year on the host and its subdomains, eligible for browsers' preload lists; turn the last two
# off with the environment if a subdomain still serves plain HTTP.
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
