import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import database_from_url, env_bool, env_list

ROOT = Path(__file__).resolve().parents[2]


def read_settings(env: dict, *names: str) -> subprocess.CompletedProcess:
    """Import the real settings module in a fresh interpreter with exactly ``env``."""
    code = (
        "import json, config.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))"
    )
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True, cwd=ROOT
    )


def test_env_bool_reads_yes_and_no_and_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", default=False) is True
    monkeypatch.setenv("FLAG", "0")
    assert env_bool("FLAG", default=True) is False
    monkeypatch.delenv("FLAG")
    assert env_bool("FLAG", default=True) is True
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be true or false"):
        env_bool("FLAG", default=False)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example, b.example ,,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def test_sqlite_url_gets_immediate_transactions_wal_and_busy_timeout():
    config = database_from_url("sqlite:////tmp/x.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["timeout"] >= 5


def test_postgres_url_is_parsed_without_a_select_before_each_request():
    config = database_from_url("postgres://postgres@127.0.0.1:5432/labelhub")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "labelhub"
    assert config["HOST"] == "127.0.0.1"
    # A dropped connection is noticed from its socket (labelhub/dropped_connections.py).
    assert config["CONN_HEALTH_CHECKS"] is False


def test_secret_key_is_required_outside_debug():
    result = read_settings({"DEBUG": "false"}, "DEBUG")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_defaults_are_safe():
    result = read_settings(
        {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "labels.example.com"},
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "X_FRAME_OPTIONS",
        "ALLOWED_HOSTS",
        "SECURE_CSP",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["ALLOWED_HOSTS"] == ["labels.example.com"]
    assert "unsafe-inline" not in json.dumps(values["SECURE_CSP"])


def test_debug_relaxes_cookies_and_database_url_selects_postgres():
    result = read_settings(
        {"DEBUG": "true", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/other"},
        "SESSION_COOKIE_SECURE",
        "DATABASES",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert values["DATABASES"]["default"]["NAME"] == "other"


def test_default_database_is_a_sqlite_file():
    result = read_settings({"DEBUG": "true"}, "DATABASES")
    assert result.returncode == 0, result.stderr
    assert "sqlite3" in result.stdout
    assert "db.sqlite3" in result.stdout
