"""Settings, read from the environment by one reader (django-environ).

Every knob is an environment variable; the README lists them. Defaults give a
development set-up on SQLite. With DEBUG off, SECRET_KEY must be set: start-up
fails with a clear message instead of running with a known key.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from core.cache import cache_from_url

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; a missing file is fine

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(or DEBUG=1 for local development)."
        )
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "members.throttle_app.LoginThrottleConfig",  # django-axes, named in both languages
    "csp",
    "django_prometheus",
    "django_guid",
    "ninja",  # the API's /api/docs page, from its own static files (no CDN)
    "core",
    "members",
    "posts",
    "follows",
    "likes",
    "feeds",
    "social",
    "lab",
]

# django-prometheus's pair sits at the two ends (but for the replica retry, which must
# come after every process_view hook), so its counts and latencies cover
# every other middleware; the request id is set before anything can log.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.web.middleware.RequestIdMiddleware",  # a plain UUID or none, for django-guid
    "django_guid.middleware.guid_middleware",
    "core.web.middleware.RequestBodyMiddleware",
    "core.web.middleware.HeadMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.web.pagecache.PageCacheMiddleware",
    "core.web.dbrouter.ReplicaMiddleware",  # marks the reads that may go to the replica
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.web.middleware.PrivateCacheMiddleware",
    "core.web.middleware.DatabaseUnavailableMiddleware",
    "core.web.middleware.NotFoundMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",  # over a rate limit: RATELIMIT_VIEW
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.web.csp.CSPMiddleware",  # django-csp's, the policy built once
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Calls the view itself (to retry it on the primary): last of the process_view hooks.
    "core.web.dbrouter.ReplicaRetryMiddleware",
]

# The toolbar is for a developer's browser only: never in tests (pytest-django
# turns DEBUG off) or production.
DEBUG_TOOLBAR = DEBUG and env.bool("DEBUG_TOOLBAR", default=True)
if DEBUG_TOOLBAR:
    INSTALLED_APPS.append("debug_toolbar")
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1"]
    DEBUG_TOOLBAR_CONFIG = {"SHOW_COLLAPSED": True}
if DEBUG:
    # The site's 404 page, not Django's technical one; inside the language, the session
    # and the member, so that the page has them.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "core.web.middleware.ReadableNotFoundMiddleware",
    )

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
            ],
        },
    },
]

# SQLite by default; DATABASE_URL=mysql://user:pass@host:3306/name for MySQL/MariaDB.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# No wait on the database lasts longer than this many seconds (0: no limit), so a
# database that is down or silent is a 503 within 5 s, not a hung worker.
# manage.py sets 0: bulk loads and the index lab run statements of minutes.
DB_TIMEOUT = env.int("DB_TIMEOUT", default=3)
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    # utf8mb4 so a nickname of 10 Korean characters or emoji fits; strict mode
    # so an over-long value is an error rather than silently truncated.
    # local_infile lets seed_posts load its own files with LOAD DATA LOCAL
    # INFILE; the client refuses that unless asked (the server must allow it too).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            "local_infile": 1,
            "connect_timeout": DB_TIMEOUT or 10,
        }
    )
    if DB_TIMEOUT:
        DATABASES["default"]["OPTIONS"].update(
            {"read_timeout": DB_TIMEOUT, "write_timeout": DB_TIMEOUT}
        )
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
else:
    # SQLite: take the write lock when a transaction starts (no "database is
    # locked" on upgrade) and let readers run beside the writer (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": DB_TIMEOUT or 20,  # waiting for the write lock
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A read replica (REPLICA_URL=mysql://...): safe web requests read from it while it
# is at most REPLICA_MAX_LAG seconds behind; a client reads the primary for
# REPLICA_PIN_SECONDS after it wrote; each process asks the replica for its state
# at most every REPLICA_CHECK_SECONDS. Empty: one database, no router.
REPLICA_URL = env.str("REPLICA_URL", default="")
REPLICA_MAX_LAG = env.int("REPLICA_MAX_LAG", default=5)
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=10)
REPLICA_CHECK_SECONDS = env.float("REPLICA_CHECK_SECONDS", default=1)
if REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(REPLICA_URL)
    if DATABASES["replica"]["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured(
            "REPLICA_URL must be a database of the same kind as DATABASE_URL."
        )
    DATABASES["replica"]["OPTIONS"] = {
        **DATABASES["default"]["OPTIONS"],
        "connect_timeout": 1,  # a silent replica costs a second, then reads go to the primary
    }
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    # A kept connection to a replica that restarted is found dead before use, not mid-query.
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["core.web.dbrouter.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "members.Member"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password guessing: after LOGIN_FAILURE_LIMIT failures for one email from one
# address, that pair waits LOGIN_LOCKOUT_MINUTES (django-axes; 429 page).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that reads the logged-in member from the cache (members/backends.py);
    # the plain one stays for sessions made before it, which name it.
    "members.backends.MemberBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # failures are enough; no row per successful login
AXES_USERNAME_CALLABLE = "members.throttle.login_username"
AXES_LOCKOUT_CALLABLE = "members.throttle.locked_out"
AXES_CLIENT_IP_CALLABLE = "core.web.security.client_ip"
# Rate limits (django-ratelimit, counted in the shared cache by fixed windows):
# likes and unlikes, follows and unfollows, and posts per member; sign-up attempts
# per client address (each sign-up mails an address nobody has verified). "N/s",
# "N/m", "N/h" or "N/d"; empty: no limit. RATE_LIMITS=0 turns them all off (make
# cluster does: its drill and load come from one address at machine speed).
RATELIMIT_ENABLE = env.bool("RATE_LIMITS", default=True)
RATE_LIMIT_LIKES = env.str("RATE_LIMIT_LIKES", default="60/m")
RATE_LIMIT_FOLLOWS = env.str("RATE_LIMIT_FOLLOWS", default="30/m")
RATE_LIMIT_POSTS = env.str("RATE_LIMIT_POSTS", default="10/m")
RATE_LIMIT_SIGNUPS = env.str("RATE_LIMIT_SIGNUPS", default="10/h")
RATELIMIT_IP_META_KEY = "core.web.security.client_ip"  # the same address as the login throttle
RATELIMIT_VIEW = "core.web.middleware.rate_limited"  # a 429 page (JSON under /api/)
RATELIMIT_FAIL_OPEN = True  # a cache that is down slows the site; it must not stop writes
# Password reset requests, per client address and per email, whether or not the
# email is a member's; over either, a 429 page. Links work PASSWORD_RESET_TIMEOUT
# seconds (Django's default: 3 days) after the mail is sent, once.
PASSWORD_RESET_RATE_PER_ADDRESS = env.str("PASSWORD_RESET_RATE_PER_ADDRESS", default="10/h")
PASSWORD_RESET_RATE_PER_EMAIL = env.str("PASSWORD_RESET_RATE_PER_EMAIL", default="3/h")

# Behind a proxy, the header that carries the client's address: X-Real-IP, which the
# proxy sets (core/web/security.py says why not X-Forwarded-For). Read only on
# requests from TRUSTED_PROXIES (addresses or networks). Empty: the peer's address.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")
if CLIENT_IP_HEADER and CLIENT_IP_HEADER.lower() != "x-real-ip":
    raise ImproperlyConfigured(
        f"CLIENT_IP_HEADER={CLIENT_IP_HEADER!r} is not supported: set X-Real-IP (the header "
        "the proxy sets, as deploy/nginx.conf does) or leave it empty."
    )
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # a member starts at their home timeline
LOGOUT_REDIRECT_URL = "timeline"

# The language follows the browser's Accept-Language, or the switcher's cookie.
LANGUAGE_CODE = "en"
# The switcher's cookie: sent on the site's own requests only, never read by scripts.
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # config/formats/<language>/formats.py
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
if not DEBUG:
    # Compressed files with content hashes in their names, cached forever by browsers.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# Production sits behind a TLS proxy: HTTPS is on by default when DEBUG is off
# (redirects, secure cookies, HSTS; `manage.py check --deploy` reports nothing).
# HTTPS=0 serves plain HTTP, e.g. `make serve` on 127.0.0.1.
HTTPS = env.bool("HTTPS", default=not DEBUG)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# /metrics across processes (prometheus-client's multiprocess mode) writes its files
# here: made when missing, so that a directory not there yet (a fresh machine, a
# cleaned .cluster/) does not stop every manage.py command at its first counter.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)

# The cache every process of the site shares (the page cache depends on it): memory
# for one process (make run), a directory for several on one machine (gunicorn
# sets one when CACHE_URL is empty), Redis for several machines
# (CACHE_URL=redis://127.0.0.1:6379/1), through django-redis: a Redis that is down
# or silent is a miss, never an error, and holds no call longer than 0.25 s
# (core/cache.py; what is cached and for how long: docs/caching.md).
CACHES = {"default": cache_from_url(env.str("CACHE_URL", default="locmemcache://"))}
# core.cache logs an outage once, in one line; this would log a traceback a call.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
# Values read on almost every request (the page generation, the pull authors) are
# kept this many seconds in each process too (0: not kept; the cluster sets 1).
LOCAL_CACHE_SECONDS = env.float("LOCAL_CACHE_SECONDS", default=0.0)
# How late others' likes, nicknames and counts may show on a member's pages (each
# process keeps them this long) and on the anonymous timelines (kept this long);
# a member's own writes show at once (core/cache.py, docs/speed.md).
MEMO_SECONDS = env.float("MEMO_SECONDS", default=5.0)
# Sessions live in the database, with a copy in the cache for at most this many
# seconds: a lost cache logs nobody out (core/web/sessions.py).
SESSION_ENGINE = "core.web.sessions"
SESSION_CACHE_SECONDS = env.int("SESSION_CACHE_SECONDS", default=60)
# Anonymous public pages are fresh after every write through the services; other
# changes (the admin, bulk loaders) show within this many seconds.
PAGE_CACHE = env.bool("PAGE_CACHE", default=True)
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=60)

# Tasks (the home-feed fan-out). CELERY_BROKER_URL empty: no broker, tasks run
# in-process right after the transaction that sent them commits.
CELERY_TASK_ALWAYS_EAGER = not env.str("CELERY_BROKER_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "memory://"
CELERY_TASK_EAGER_PROPAGATES = False  # a failed in-process task leaves its job for the sweeper
# A task is acknowledged when it is done, not when it starts: a worker that dies
# mid-task leaves the message to be delivered again (tasks are idempotent).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker that is down must not hold a request: publishing tries twice at most
# (the second time on a new connection: after a broker restart, every pooled
# connection is dead once), 1 s to connect each time; then the job stays in its
# outbox and the sweeper sends it again.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0,
    "interval_max": 0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0.1}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
# Two queues: the default one (fan-out, sweepers, member removals) and "mail" (every
# email: welcome, password reset), so a mail backlog held back by the rate limit
# never delays a fan-out. Listed
# here so that a worker started without -Q consumes both. Each needs a routing key
# of its own: without one Celery binds both with the default key, and every
# message would be copied into both queues.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue("celery", routing_key="celery"), Queue("mail", routing_key="mail")]
CELERY_TASK_ROUTES = {"members.tasks.send_mail": {"queue": "mail"}}
# The outbox sweep (core.outbox) queues again what was not queued or not done in time.
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "core.tasks.outbox_sweep",
        "schedule": env.float("OUTBOX_SWEEP_SECONDS", default=30),
    },
}

# Outbound mail (the welcome email at sign-up, password reset links).
# EMAIL_URL=smtp://host:port (or smtp+tls://user:password@host:587) sends through
# that server; empty, mail is printed to the console (the log), in production too:
# nothing is delivered until EMAIL_URL is set.
_email = env.email_url_config(env.str("EMAIL_URL", default="") or "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # seconds; a silent server is a retry
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SNS <no-reply@sns.example>")
# The provider refuses more than so many messages a second. MAIL_RATE_LIMIT is
# Celery's rate limit on the sending task: it holds per worker (each `celery worker`,
# whatever its concurrency) and spreads that worker's sends, keeping its pool free for
# the fan-out. MAIL_PROVIDER_RATE (0: off) is what all workers together send at most a
# second, paced by send slots in the shared cache at the moment of sending
# (members.mail.send_slot_wait); set it under the provider's limit, with a margin.
MAIL_RATE_LIMIT = env.str("MAIL_RATE_LIMIT", default="8/s")
MAIL_PROVIDER_RATE = env.float("MAIL_PROVIDER_RATE", default=0.0)

# Home feeds: authors with more followers than this are pulled at read time
# instead of fanned out; each member's feed keeps its newest FEED_MAX_ENTRIES.
FEED_FANOUT_LIMIT = env.int("FEED_FANOUT_LIMIT", default=10_000)
FEED_MAX_ENTRIES = env.int("FEED_MAX_ENTRIES", default=800)

# Content-Security-Policy (django-csp): scripts, styles and images from this site
# only. Inline style attributes stay allowed: the heat map sets its column count
# and month positions with them, and the admin uses a few; inline scripts do not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Request ids (django-guid): nginx's X-Request-ID, or a new one when there is none
# or it is not a plain UUID (32 hex characters, or 36 with dashes: checked first by
# core.web.middleware.RequestIdMiddleware), so a hostile header never reaches the
# logs as an id. It comes back on the response, is in every
# log line of the request and, with a broker, in the logs of the tasks it sent.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "EXPOSE_HEADER": False,  # no cross-origin readers
    "INTEGRATIONS": [],
}
if not CELERY_TASK_ALWAYS_EAGER:
    # Not without a broker: a task run in-process would end the request's id with it.
    from django_guid.integrations import CeleryIntegration

    DJANGO_GUID["INTEGRATIONS"].append(CeleryIntegration(use_django_logging=True))

# One handler, on the root logger, so each line is printed once. Django's
# defaults give "django" and "django.server" console handlers of their own,
# and "django" also propagated to the root: two or three copies of a line.
# Configuring "django" here without handlers replaces those defaults; its
# children (runserver's "django.server" too) propagate to the root.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "format": "{asctime} {levelname} [{request_id}] {name}: {message}",
            "style": "{",
        }
    },
    "filters": {
        "one_line": {"()": "core.web.logs.OneLine"},
        "request_id": {"()": "core.web.logs.RequestId"},
        # Control characters from a request (a path with %0A) never start a new line.
        "escape": {"()": "core.web.logs.Escape"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["escape", "request_id"],
        },
        "console_one_line": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["one_line", "escape", "request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # "Watching for file changes" on every start of runserver says nothing new.
        "django.utils.autoreload": {"level": "WARNING"},
        # A hostile Host header or the like: one short line, not a 33 KB traceback.
        "django.security": {"handlers": ["console_one_line"], "propagate": False},
        # django-guid says "found in the header" on every request; its warnings quote
        # the refused header, which may be 8 KB of anything: one short line.
        "django_guid": {"handlers": ["console_one_line"], "level": "WARNING", "propagate": False},
        # django-axes narrates every attempt at INFO; lockouts are warnings.
        "axes": {"level": "WARNING"},
        # Celery's eager mode (no broker) logs each task it runs in-process.
        "celery.app.trace": {"level": "WARNING"},
    },
}
