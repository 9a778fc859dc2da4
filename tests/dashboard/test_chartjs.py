"""The pinned Chart.js: the local copy `make vendor` fetched matches the settings."""

import base64
import hashlib

from django.conf import settings

from tests.dashboard.chartjs import local_chartjs, pinned_version
from tests.services import ROOT


def test_default_url_is_the_pinned_jsdelivr_file():
    cdn = "https://cdn.jsdelivr.net/npm/chart.js@{}/dist/chart.umd.min.js"
    url = settings.VITRINE_CHARTJS_URL
    assert url == cdn.format(pinned_version())
    assert settings.VITRINE_CHARTJS_INTEGRITY.startswith("sha384-")


def test_local_copy_is_the_pinned_version_with_the_pinned_integrity():
    data = (ROOT / "static" / local_chartjs()).read_bytes()
    digest = base64.b64encode(hashlib.sha384(data).digest()).decode()
    assert f"sha384-{digest}" == settings.VITRINE_CHARTJS_INTEGRITY
    assert f"Chart.js v{pinned_version()}".encode() in data[:200]


def test_makefile_pins_the_same_version_and_hash():
    makefile = (ROOT / "Makefile").read_text()
    assert f"CHARTJS_VERSION := {pinned_version()}\n" in makefile
    assert f"CHARTJS_INTEGRITY := {settings.VITRINE_CHARTJS_INTEGRITY}\n" in makefile
