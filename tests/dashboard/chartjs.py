"""Where the pinned Chart.js lives locally, for tests that load it in a browser."""

import re

from django.conf import settings

from tests.services import ROOT, missing


def pinned_version() -> str:
    match = re.search(r"chart\.js@([0-9.]+)/", settings.VITRINE_CHARTJS_URL)
    assert match, settings.VITRINE_CHARTJS_URL
    return match.group(1)


def local_chartjs() -> str:
    """The static path of the copy `make vendor` fetched; skip (fail under CI)
    when it is absent."""
    path = f"vendor/chartjs-{pinned_version()}/chart.umd.min.js"
    if not (ROOT / "static" / path).is_file():
        missing("Chart.js local copy", f"static/{path} is absent; run `make vendor`")
    return path
