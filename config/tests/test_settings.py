"""Start-up rules of config/settings.py, checked in a fresh interpreter."""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
# pytest sets DJANGO_SETTINGS_MODULE (to the test settings) and HTTPS; start clean.
INHERITED = {
    k: v
    for k, v in os.environ.items()
    if k not in {"SECRET_KEY", "DEBUG", "HTTPS", "DJANGO_SETTINGS_MODULE"}
}
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-only-4f8a9c2e7b1d6e3f0a5b8c",
    "ALLOWED_HOSTS": "sns.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
}


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env={**INHERITED, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def engine(**env: str) -> subprocess.CompletedProcess:
    return run("-c", "import config.settings as s; print(s.DATABASES['default']['ENGINE'])", **env)


def test_missing_secret_key_with_debug_off_fails_with_a_clear_message():
    result = engine(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_runs_without_a_secret_key():
    result = engine(DEBUG="true", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.sqlite3"


def test_mysql_url_selects_mysql():
    result = engine(SECRET_KEY="x", DATABASE_URL="mysql://root@127.0.0.1:3306/sns")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.mysql"


def test_check_deploy_reports_nothing_in_production():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_plain_http_is_a_switch_and_check_deploy_says_so():
    result = run("manage.py", "check", "--deploy", **PRODUCTION, HTTPS="false")
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stdout + result.stderr


def database_options(**env: str) -> dict:
    result = run(
        "-c",
        "import config.settings as s; print(repr(s.DATABASES['default']['OPTIONS']))",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return eval(result.stdout)  # noqa: S307 - our own repr of a dict of literals


def test_every_wait_on_mysql_is_bounded():
    options = database_options(SECRET_KEY="x", DATABASE_URL="mysql://root@127.0.0.1:3306/sns")
    assert options["connect_timeout"] == options["read_timeout"] == options["write_timeout"] == 3


def test_sqlite_waits_for_the_write_lock_no_longer_than_db_timeout():
    options = database_options(SECRET_KEY="x", DATABASE_URL="sqlite:///:memory:", DB_TIMEOUT="2")
    assert options["timeout"] == 2


def test_manage_py_commands_have_no_read_timeout():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "import os; print(os.environ['DB_TIMEOUT'])"],
        cwd=BASE_DIR,
        env={**INHERITED, "DATABASE_URL": "sqlite:///:memory:"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1] == "0", result.stderr
