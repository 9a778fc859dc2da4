"""The Content-Security-Policy's sources, and templates that need nothing more."""

import re

import pytest

from config.csp import image_sources, script_sources
from tests.services import ROOT

# What a policy without 'unsafe-inline' blocks.
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}
TEMPLATES = sorted(
    path
    for pattern in ("templates/**/*.html", "*/templates/**/*.html")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)


def test_the_templates_are_found():
    assert len(TEMPLATES) > 10


@pytest.mark.parametrize(
    "template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT))
)
def test_no_template_needs_inline_code_or_styles(template):
    text = template.read_text()
    found = [name for name, pattern in INLINE.items() if pattern.search(text)]
    assert found == []


def test_admin_thumbnails_carry_no_style_attribute(db):
    from catalog.admin import thumbnail_html
    from tests.dashboard.factories import ImageFactory

    html = thumbnail_html(ImageFactory())
    assert "style=" not in html
    assert 'class="vitrine-thumb"' in html


@pytest.mark.parametrize(
    ("url", "sources"),
    [
        ("vendor/chartjs-4.5.1/chart.umd.min.js", []),
        ("/static/chart.js", []),
        (
            "https://cdn.example.net/npm/c@1/c.js",
            ["https://cdn.example.net/npm/c@1/c.js"],
        ),
        ("//cdn.example.net/c.js", ["https://cdn.example.net/c.js"]),
        ("http://127.0.0.1:9000/c.js", ["http://127.0.0.1:9000/c.js"]),
    ],
)
def test_scripts_from_another_host_are_allowed_file_by_file(url, sources):
    assert script_sources(chartjs_url=url) == sources


def test_photos_on_the_filesystem_need_no_other_image_source():
    assert image_sources(bucket="", endpoint_url="", region="") == []


def test_photos_on_an_s3_server_are_allowed_from_its_endpoint():
    assert image_sources(
        bucket="vitrine", endpoint_url="https://s3.example.com:9000", region=""
    ) == ["https://s3.example.com:9000", "https://vitrine.s3.example.com:9000"]


def test_photos_on_aws_are_allowed_from_the_bucket_hosts():
    sources = image_sources(bucket="shop", endpoint_url="", region="eu-west-1")
    assert "https://shop.s3.amazonaws.com" in sources
    assert "https://shop.s3.eu-west-1.amazonaws.com" in sources
    assert "https://s3.eu-west-1.amazonaws.com" in sources
    assert all("*" not in source for source in sources)
