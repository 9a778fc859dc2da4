import subprocess

from tests.services import BIN, ROOT, project_env

STRONG_KEY = "k" * 20 + "-a-random-production-secret-of-enough-length-0123456789"


def run_manage(*args, **env):
    return subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=project_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage(
        "check", DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="shop.example"
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = run_manage(
        "check",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="short",
        DJANGO_ALLOWED_HOSTS="shop.example",
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must list" in result.stderr


def test_production_check_deploy_is_clean(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS="shop.example",
        # Production shares counters between processes (accounts.W001).
        CACHE_URL="redis://127.0.0.1:6379/1",
        VITRINE_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
