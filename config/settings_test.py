"""Settings for the test suite: the real settings, with test-only defaults.

The suite must run with nothing exported, so it supplies a throw-away
SECRET_KEY; DATABASE_URL still comes from the environment, which is how the
same suite runs on MariaDB.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-a-secret")
os.environ["DEBUG"] = "false"  # no toolbar, no debug pages under test
os.environ.setdefault("HTTPS", "false")  # the test client speaks plain HTTP
# One database, even with the cluster's environment loaded: a test may only open
# the connections it declares, and config/tests/test_dbrouter.py adds the
# replica (a mirror of the test database) itself.
os.environ.pop("REPLICA_URL", None)

from config.settings import *  # noqa: E402,F403

# Tests write inside transactions that never commit, so the page cache would never
# hear of their writes: it is on only in its own tests (config/tests/test_pagecache.py).
PAGE_CACHE = False

# Rate limits count per member id across tests (ids come back after a rollback):
# on only in their own tests (config/tests/test_rate_limits.py).
RATELIMIT_ENABLE = False

# Hashing is slow on purpose; tests create many members.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the finders without a collectstatic run.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: threads in the concurrency tests then wait
    # on SQLite's real write lock (WAL, busy timeout) as they would in production.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}  # noqa: F405
