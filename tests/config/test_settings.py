"""The settings fail closed: production unless debug is asked for, real secrets
required, HTTPS and CSP headers on; each case in a process of its own, with an
environment that carries none of the developer's project settings."""

import base64
import hashlib
import json
import subprocess

import pytest
from django.conf import settings

from tests.dashboard.chartjs import local_chartjs
from tests.services import BIN, ROOT, project_env

STRONG_KEY = "k" * 20 + "-a-random-production-secret-of-enough-length-0123456789"
PRODUCTION = {
    "DJANGO_SECRET_KEY": STRONG_KEY,
    "DJANGO_ALLOWED_HOSTS": "shop.example",
}
# Prints what a process started with the given environment runs with.
SHOW_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "debug": settings.DEBUG,
    "proxy_header": getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
    "csp": settings.SECURE_CSP,
}))
"""
# Fetches a page and an API endpoint with Django's test client, as from a
# browser behind a TLS proxy, and prints the headers that came back.
FETCH = """
import json
from django.test import Client
client = Client(headers={"X-Forwarded-Proto": "https"}, HTTP_HOST="shop.example")
answers = {}
for path in ("/accounts/login/", "/api/v1/auth/me/"):
    response = client.get(path)
    answers[path] = {"status": response.status_code, **response.headers}
print(json.dumps(answers))
"""


def clean_env(**overrides: str) -> dict[str, str]:
    """A process environment without DJANGO_DEBUG unless the test gives it."""
    env = project_env(**overrides)
    if "DJANGO_DEBUG" not in overrides:
        del env["DJANGO_DEBUG"]
    return env


def run_manage(*args, **env):
    return subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_python(code: str, **env) -> dict:
    result = run_manage("shell", "--no-imports", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_debug_asked_for_it_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage("check", VITRINE_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
    assert "DJANGO_DEBUG=true" in result.stderr, "the message says how to run locally"


def test_production_is_the_default_mode(tmp_path):
    shown = run_python(SHOW_SETTINGS, VITRINE_VAR_DIR=str(tmp_path), **PRODUCTION)
    assert shown["debug"] is False


def test_debug_runs_when_asked_for_with_no_secret_key_to_set(tmp_path):
    shown = run_python(
        SHOW_SETTINGS, DJANGO_DEBUG="true", VITRINE_VAR_DIR=str(tmp_path)
    )
    assert shown["debug"] is True


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage(
        "check", DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="shop.example"
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "short",
        "insecure-local-development-key-" + "x" * 40,
        "django-insecure-" + "abcdefghij" * 5,
        "ab" * 40,  # long, but five different characters at most
    ],
    ids=["short", "local-key", "django-insecure", "few-characters"],
)
def test_production_refuses_a_weak_secret_key(key):
    result = run_manage(
        "check",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=key,
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
        # Production shares counters between processes (accounts.W001).
        CACHE_URL="redis://127.0.0.1:6379/1",
        VITRINE_VAR_DIR=str(tmp_path),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_proxy_ssl_header_is_trusted_only_when_configured(tmp_path):
    default = run_python(SHOW_SETTINGS, VITRINE_VAR_DIR=str(tmp_path), **PRODUCTION)
    assert default["proxy_header"] is None
    configured = run_python(
        SHOW_SETTINGS,
        VITRINE_VAR_DIR=str(tmp_path),
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        **PRODUCTION,
    )
    assert configured["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_a_forwarded_proto_from_an_unconfigured_proxy_is_not_believed(tmp_path):
    answers = run_python(FETCH, VITRINE_VAR_DIR=str(tmp_path), **PRODUCTION)
    # The client claims HTTPS, but nothing says a proxy sets the header: the
    # request is plain HTTP and is sent to HTTPS.
    assert answers["/accounts/login/"]["status"] == 301
    assert answers["/accounts/login/"]["Location"].startswith("https://shop.example")


def test_a_malformed_proxy_ssl_header_is_refused_with_a_message(tmp_path):
    result = run_manage(
        "check",
        VITRINE_VAR_DIR=str(tmp_path),
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        **PRODUCTION,
    )
    assert result.returncode != 0
    assert "DJANGO_SECURE_PROXY_SSL_HEADER must be" in result.stderr


def test_production_pages_and_api_answer_with_a_content_security_policy(tmp_path):
    static = {"VITRINE_VAR_DIR": str(tmp_path), "DJANGO_STATIC_ROOT": str(tmp_path)}
    # Pages name their static files by hash, as the README's deployment does.
    collected = run_manage("collectstatic", "--noinput", **static, **PRODUCTION)
    assert collected.returncode == 0, collected.stderr
    answers = run_python(
        FETCH,
        **static,
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        **PRODUCTION,
    )
    page, api = answers["/accounts/login/"], answers["/api/v1/auth/me/"]
    assert page["status"] == 200
    assert api["status"] == 401
    for answer in (page, api):
        policy = answer["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "object-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "Strict-Transport-Security" in answer


def test_the_script_policy_allows_exactly_the_chartjs_file_from_its_cdn(tmp_path):
    url = "https://cdn.example.net/npm/chart.js@4.5.1/dist/chart.umd.min.js"
    shown = run_python(
        SHOW_SETTINGS,
        VITRINE_VAR_DIR=str(tmp_path),
        VITRINE_CHARTJS_URL=url,
        **PRODUCTION,
    )
    assert shown["csp"]["script-src"] == ["'self'", url]


def test_a_local_chartjs_copy_needs_no_other_script_origin(tmp_path):
    shown = run_python(
        SHOW_SETTINGS,
        VITRINE_VAR_DIR=str(tmp_path),
        VITRINE_CHARTJS_URL="vendor/chartjs-4.5.1/chart.umd.min.js",
        **PRODUCTION,
    )
    assert shown["csp"]["script-src"] == ["'self'"]


def test_seed_demo_is_refused_in_production_mode(tmp_path):
    result = run_manage("seed_demo", VITRINE_VAR_DIR=str(tmp_path), **PRODUCTION)
    assert result.returncode != 0
    assert "local use only: run it with DJANGO_DEBUG=true" in result.stderr


def test_collectstatic_keeps_the_vendored_chartjs_as_its_integrity_hash_says(tmp_path):
    path = local_chartjs()
    static = {"VITRINE_VAR_DIR": str(tmp_path), "DJANGO_STATIC_ROOT": str(tmp_path)}
    collected = run_manage("collectstatic", "--noinput", **static, **PRODUCTION)
    assert collected.returncode == 0, collected.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    served = (tmp_path / manifest["paths"][path]).read_bytes()
    digest = base64.b64encode(hashlib.sha384(served).digest()).decode()
    assert f"sha384-{digest}" == settings.VITRINE_CHARTJS_INTEGRITY
