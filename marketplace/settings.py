"""Settings: every value comes from the environment, with embedded defaults.

With no environment at all the engine runs on a local SQLite file, executes Celery
tasks eagerly, prints e-mail to the console and searches with the database backend.
`MARKETPLACE_ENV=production` refuses the insecure defaults.
"""
import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from marketplace.plugins.discovery import discover_plugin_apps

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name, default=False):
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    return int(env(name, default))


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


ENVIRONMENT = env("MARKETPLACE_ENV", "development")
IS_PRODUCTION = ENVIRONMENT == "production"

_INSECURE_SECRET = "insecure-development-secret-key-change-me"
SECRET_KEY = env("SECRET_KEY", _INSECURE_SECRET)
DEBUG = env_bool("DEBUG", not IS_PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if IS_PRODUCTION else "*")

if IS_PRODUCTION:
    problems = []
    if SECRET_KEY == _INSECURE_SECRET or len(SECRET_KEY) < 32:
        problems.append("SECRET_KEY must be set to a random value of 32+ characters")
    if DEBUG:
        problems.append("DEBUG must be off")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must list the served host names")
    if not env("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL must point at PostgreSQL")
    if not env("REDIS_URL"):
        problems.append("REDIS_URL must be set (Celery broker, cache and rate limits are shared)")
    if env("JWT_SECRET") is not None and len(env("JWT_SECRET")) < 32:
        problems.append("JWT_SECRET must have 32+ characters")
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with MARKETPLACE_ENV=production: " + "; ".join(problems) + "."
        )

# First-party plugins shipped with the engine (each is a Django app). Third-party
# plugins are found through the `marketplace.plugins` entry-point group.
# The development gateway (plugins.dev_gateway) pays without a network on the embedded
# defaults; it is left out in production and refuses to start there.
_DEFAULT_PLUGINS = ("plugins.stripe,plugins.parts_storefront,plugins.membership,plugins.vendor_plans,plugins.group_buy,"
                    "plugins.vip_tiers,plugins.repair_booking"
                    + ("" if IS_PRODUCTION else ",plugins.dev_gateway"))
MARKETPLACE_BUILTIN_PLUGINS = env_list("MARKETPLACE_BUILTIN_PLUGINS", _DEFAULT_PLUGINS)
MARKETPLACE_PLUGIN_APPS = discover_plugin_apps(MARKETPLACE_BUILTIN_PLUGINS)
# Trace every hook call (name, arguments, result) to the "marketplace.plugins.trace" logger.
MARKETPLACE_TRACE_HOOKS = env_bool("MARKETPLACE_TRACE_HOOKS", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "graphene_django",
    "marketplace.core",
    "marketplace.accounts",
    "marketplace.plugins",
    "marketplace.webhooks",
    "marketplace.vendors",
    "marketplace.catalog",
    "marketplace.pricing",
    "search",
    "marketplace.checkout",
    "marketplace.orders",
    "marketplace.payments",
    "marketplace.api",
    "storefront",
    *MARKETPLACE_PLUGIN_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, GraphiQL) from each stateless app server: collectstatic output in
    # production (hashed names, cached for ever), the apps' folders in development.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"
ASGI_APPLICATION = "marketplace.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if IS_PRODUCTION else 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env_list(
    "PASSWORD_HASHERS",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
)

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("CACHE_URL", REDIS_URL),
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "mp"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis when configured, otherwise tasks run eagerly in-process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
# The queue tasks go to and workers read: deployments sharing one broker keep apart.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    "webhooks-retry-due": {"task": "marketplace.webhooks.tasks.retry_due_webhooks", "schedule": 60.0},
    "orders-expire-unpaid": {"task": "marketplace.orders.tasks.expire_unpaid_orders", "schedule": 60.0},
}

EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if IS_PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@marketplace.local")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Where links in e-mails point (the storefront that handles confirmation and reset).
STOREFRONT_URL = env("STOREFRONT_URL", "http://127.0.0.1:8000/shop")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")  # business time zone; storage is UTC
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", BASE_DIR / "var" / "static"))
if IS_PRODUCTION:  # `collectstatic` writes hashed, compressed copies; whitenoise serves them
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
else:  # served straight from the apps' static folders, whatever DEBUG says (no collectstatic needed)
    WHITENOISE_USE_FINDERS = True
    warnings.filterwarnings("ignore", message="No directory at: ")  # STATIC_ROOT exists after collectstatic only

# Auth tokens (JWT, HS256).
JWT_SECRET = env("JWT_SECRET", SECRET_KEY)
JWT_ACCESS_TTL = timedelta(seconds=env_int("JWT_ACCESS_TTL_SECONDS", 15 * 60))
JWT_REFRESH_TTL = timedelta(seconds=env_int("JWT_REFRESH_TTL_SECONDS", 30 * 24 * 3600))
ACCOUNTS_REQUIRE_EMAIL_CONFIRMATION = env_bool("ACCOUNTS_REQUIRE_EMAIL_CONFIRMATION", True)
ACCOUNTS_CONFIRMATION_MAX_AGE = timedelta(days=3)
# Login rate limits: failures per account, attempts per client IP, in a window.
LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
LOGIN_MAX_ATTEMPTS_PER_IP = env_int("LOGIN_MAX_ATTEMPTS_PER_IP", 30)
LOGIN_RATE_WINDOW_SECONDS = env_int("LOGIN_RATE_WINDOW_SECONDS", 15 * 60)
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)

# GraphQL limits.
GRAPHENE = {"SCHEMA": "marketplace.api.schema.schema", "ATOMIC_MUTATIONS": False, "MIDDLEWARE": []}
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 15)
GRAPHQL_MAX_ALIASES = env_int("GRAPHQL_MAX_ALIASES", 50)
GRAPHQL_MAX_COST = env_int("GRAPHQL_MAX_COST", 50_000)
GRAPHQL_INTROSPECTION_COST = env_int("GRAPHQL_INTROSPECTION_COST", 10_000)  # one `__schema` walk
GRAPHQL_MAX_PAGE_SIZE = env_int("GRAPHQL_MAX_PAGE_SIZE", 100)
GRAPHQL_DEFAULT_PAGE_SIZE = env_int("GRAPHQL_DEFAULT_PAGE_SIZE", 20)
GRAPHQL_MAX_OFFSET = env_int("GRAPHQL_MAX_OFFSET", 10_000)  # `offset` on connections; page on with cursors
GRAPHQL_MAX_QUERY_BYTES = env_int("GRAPHQL_MAX_QUERY_BYTES", 200_000)
GRAPHQL_MAX_TOKENS = env_int("GRAPHQL_MAX_TOKENS", 10_000)
GRAPHQL_MAX_NESTING = env_int("GRAPHQL_MAX_NESTING", 64)  # braces/brackets, before any recursive code runs
GRAPHQL_MAX_OPERATIONS = env_int("GRAPHQL_MAX_OPERATIONS", 20)
GRAPHQL_MAX_FRAGMENTS = env_int("GRAPHQL_MAX_FRAGMENTS", 200)
GRAPHQL_MAX_FIELD_REPEATS = env_int("GRAPHQL_MAX_FIELD_REPEATS", 20)  # one response name per selection set
GRAPHQL_MAX_VARIABLES = env_int("GRAPHQL_MAX_VARIABLES", 100)  # variable definitions per operation
GRAPHQL_MAX_OVERLAP_BUDGET = env_int("GRAPHQL_MAX_OVERLAP_BUDGET", 20_000)  # graphql-core's field comparisons
GRAPHQL_MAX_VARIABLES_DEPTH = env_int("GRAPHQL_MAX_VARIABLES_DEPTH", 32)  # nesting of JSON in `variables`
GRAPHQL_MAX_STRING_LENGTH = env_int("GRAPHQL_MAX_STRING_LENGTH", 10_000)  # a text input with no model limit
GRAPHQL_REQUEST_BUDGET_SECONDS = float(env("GRAPHQL_REQUEST_BUDGET_SECONDS", "10"))
GRAPHQL_GRAPHIQL = env_bool("GRAPHQL_GRAPHIQL", not IS_PRODUCTION)

# Outgoing webhooks.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_RETRY_BASE_SECONDS = float(env("WEBHOOK_RETRY_BASE_SECONDS", "30"))

# Search (the search issue adds the backends): "database" or "elasticsearch".
SEARCH_BACKEND = env("SEARCH_BACKEND", "database")
ELASTICSEARCH_URL = env("ELASTICSEARCH_URL")
# Indices are "<prefix>products" / "<prefix>shops": aliases over versioned indices (docs/search.md).
SEARCH_INDEX_PREFIX = env("SEARCH_INDEX_PREFIX", "marketplace-")
SEARCH_INDEX_REPLICAS = env_int("SEARCH_INDEX_REPLICAS", 1 if IS_PRODUCTION else 0)
# A document the index refuses is retried this many times, waiting base x 2^attempt seconds.
SEARCH_INDEX_MAX_RETRIES = env_int("SEARCH_INDEX_MAX_RETRIES", 5)
SEARCH_INDEX_RETRY_BASE_SECONDS = float(env("SEARCH_INDEX_RETRY_BASE_SECONDS", "2"))
CELERY_BEAT_SCHEDULE["search-retry-failures"] = {"task": "search.tasks.retry_failures", "schedule": 300.0}
# Nightly, 04:00 in the business time zone (20:00 UTC for Asia/Shanghai): the database
# backend rewrites its text tables in locality order (a few seconds of waiting searches).
CELERY_BEAT_SCHEDULE["search-optimize"] = {"task": "search.tasks.optimize",
                                           "schedule": crontab(hour=env_int("SEARCH_OPTIMIZE_HOUR_UTC", 20), minute=0)}

# Stripe (the payments plugin reads these).
STRIPE_API_KEY = env("STRIPE_API_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env("STRIPE_API_BASE")

DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", "CNY")
# The platform's price floor: a final unit price is never below this share of the list
# price (7折), unless an active campaign exempts the item.
PRICE_FLOOR_RATIO = env("PRICE_FLOOR_RATIO", "0.70")
# Unpaid orders are cancelled (and their stock released) after this many minutes.
ORDER_PAYMENT_TIMEOUT_MINUTES = env_int("ORDER_PAYMENT_TIMEOUT_MINUTES", 30)
# Commission the platform takes from a vendor without a rate of its own.
DEFAULT_COMMISSION_RATE = env("DEFAULT_COMMISSION_RATE", "0.05")

if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "marketplace.plugins.trace": {"level": "DEBUG" if MARKETPLACE_TRACE_HOOKS else "INFO"},
    },
}
