"""axe-core in a browser page: the accessibility check of the browser tests.

`make vendor` packs the pinned axe-core from the npm registry into
static/vendor/ (the version is the Makefile's AXE_VERSION); the page loads it
from the live server itself, so the strict Content-Security-Policy ('self')
needs no exception.
"""

import re

from tests.services import ROOT, missing

BLOCKING = ("serious", "critical")


def axe_path() -> str:
    """The static path of axe-core; skip (fail under CI) when it is absent."""
    makefile = (ROOT / "Makefile").read_text()
    version = re.search(r"^AXE_VERSION := ([0-9.]+)$", makefile, re.M).group(1)
    path = f"vendor/axe-core-{version}/axe.min.js"
    if not (ROOT / "static" / path).is_file():
        missing("axe-core local copy", f"static/{path} is absent; run `make vendor`")
    return path


def axe_violations(page, base_url: str) -> list[dict]:
    """Run axe-core on the page as it is; return its serious and critical
    violations, each with the nodes it names."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=f"{base_url}/static/{axe_path()}")
    results = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ["violations"]});
          return r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
          }));
        }"""
    )
    return [v for v in results if v["impact"] in BLOCKING]


def assert_accessible(page, base_url: str, what: str) -> None:
    violations = axe_violations(page, base_url)
    assert not violations, f"{what}: " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}) at {v['nodes']}" for v in violations
    )
