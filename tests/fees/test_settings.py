"""Production settings: `check --deploy` is clean, and insecure configurations are refused."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys


def run_check(tmp_path, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY",
                                                       "DJANGO_ALLOW_ASYNC_UNSAFE"}}  # set by the browser fixture
    env.update(RVUEDGE_DATA_DIR=str(tmp_path), **env_extra)
    return subprocess.run([sys.executable, "-m", "rvuedge.cli", "check", "--deploy", "--fail-level", "WARNING"],
                          capture_output=True, text=True, env=env, timeout=120)


def test_check_deploy_is_clean_in_production(tmp_path):
    proc = run_check(tmp_path, RVUEDGE_PRODUCTION="1", SECRET_KEY=secrets.token_urlsafe(60),
                     ALLOWED_HOSTS="rvuedge.example.org")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "no issues" in proc.stdout


def test_production_refuses_the_development_secret_key(tmp_path):
    proc = run_check(tmp_path, RVUEDGE_PRODUCTION="1")
    assert proc.returncode != 0
    assert "needs a SECRET_KEY" in proc.stderr


def test_production_refuses_debug(tmp_path):
    proc = run_check(tmp_path, RVUEDGE_PRODUCTION="1", SECRET_KEY=secrets.token_urlsafe(60), DEBUG="1")
    assert proc.returncode != 0
    assert "refuses DEBUG" in proc.stderr
