"""config/run_local.py's environment for `make run`'s two processes."""

from pathlib import Path

from config.run_local import BASE_DIR, child_env

PINNED = "static/vendor/chartjs-4.5.1/chart.umd.min.js"


def test_the_worker_and_the_web_server_share_the_embedded_broker_and_a_cache(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CACHE_URL", raising=False)
    env = child_env(tmp_path)
    assert env["CELERY_BROKER_URL"] == "filesystem://"
    assert env["CACHE_URL"] == f"filecache://{tmp_path / 'cache'}"


def test_a_configured_broker_and_cache_are_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/3")
    env = child_env(tmp_path)
    assert env["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert env["CACHE_URL"] == "redis://127.0.0.1:6379/3"


def test_the_charts_use_the_local_chartjs_when_make_vendor_fetched_it(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("VITRINE_CHARTJS_URL", raising=False)
    local = tmp_path / "static" / "vendor" / "chartjs-9.9.9" / "chart.umd.min.js"
    local.parent.mkdir(parents=True)
    local.write_text("// Chart.js")
    env = child_env(tmp_path, chartjs=local.relative_to(tmp_path), base_dir=tmp_path)
    assert env["VITRINE_CHARTJS_URL"] == "vendor/chartjs-9.9.9/chart.umd.min.js"


def test_the_charts_use_the_cdn_without_a_local_copy(tmp_path, monkeypatch):
    monkeypatch.delenv("VITRINE_CHARTJS_URL", raising=False)
    env = child_env(tmp_path, chartjs=Path(PINNED), base_dir=tmp_path)
    assert "VITRINE_CHARTJS_URL" not in env  # the settings' default: the CDN


def test_a_chartjs_url_that_is_set_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("VITRINE_CHARTJS_URL", "https://cdn.example.test/chart.js")
    env = child_env(tmp_path, chartjs=Path(PINNED), base_dir=BASE_DIR)
    assert env["VITRINE_CHARTJS_URL"] == "https://cdn.example.test/chart.js"
