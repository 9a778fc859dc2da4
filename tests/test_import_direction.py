"""The direction of imports between the apps, read from the source with ast.

The apps stand on floors, lowest first: accounts, catalog, classification,
imports, webhooks, dashboard. Below them all, ``imaging`` (decoding and
converting photos) imports no Django and no app, so that uploads and
``classification.ml`` share it.
A module may import its own app and lower floors; the
modules that compose apps for a person or a client (page and API views, the
admin, URL confs, management commands) may also import higher floors'
selectors and services, except the dashboard's, which no other app imports.
Dashboard and webhooks read other apps only through
those apps' selectors (an import of another app's models only for type hints,
under ``if TYPE_CHECKING:``); what a role may do is asked of accounts.roles,
the one place that decides it, by every page. Every import counts, also one
deferred into a function: a deferred import that dodges a circle is the first
thing to find.

Every rule holds with no exception: an import against one fails the suite.
"""

import ast
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ["accounts", "catalog", "classification", "imports", "webhooks", "dashboard"]
# Packages under every floor, importable by any app and by classification.ml.
LIBRARIES = ["imaging"]
DJANGO = ["django", "rest_framework", "config"]
# Paths inside an app (fnmatch patterns) of the modules that compose apps.
COMPOSERS = [
    "views.py",
    "views_*.py",
    "api/views.py",
    "admin.py",
    "admin_*.py",
    "admin/*.py",
    "urls.py",
    "api/urls.py",
    "management/commands/*.py",
]
READ_ONLY_THROUGH_SELECTORS = ["dashboard"]
# Modules every app's pages may ask besides selectors: who may do what.
POLICIES = ["accounts.roles"]
NO_OTHER_MODELS = ["dashboard", "webhooks"]


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    path: str  # its path inside its app
    target: str  # what it imports, dotted (module, or module.name)
    type_only: bool  # under ``if TYPE_CHECKING:``

    @property
    def app(self) -> str:
        return self.module.split(".")[0]

    @property
    def target_app(self) -> str:
        return self.target.split(".")[0]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, package: str, path: str):
        self.module, self.package, self.path = module, package, path
        self.imports: list[Import] = []
        self._type_only = 0

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self._type_only += 1
            for child in node.body:
                self.visit(child)
            self._type_only -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _add(self, target: str) -> None:
        self.imports.append(
            Import(self.module, self.path, target, type_only=self._type_only > 0)
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join([*parts, base] if base else parts)
        for alias in node.names:
            self._add(f"{base}.{alias.name}")


def _imports() -> list[Import]:
    found = []
    for app in [*FLOORS, *LIBRARIES]:
        for file in sorted((ROOT / app).rglob("*.py")):
            inside = file.relative_to(ROOT / app)
            if "migrations" in inside.parts:
                continue
            dotted = file.relative_to(ROOT).with_suffix("").parts
            is_package = dotted[-1] == "__init__"
            module = ".".join(dotted[:-1] if is_package else dotted)
            package = module if is_package else module.rpartition(".")[0]
            collector = _Collector(module, package, inside.as_posix())
            collector.visit(ast.parse(file.read_text(), filename=str(file)))
            found += collector.imports
    return found


IMPORTS = _imports()


def _breaks(rule: str, imp: Import) -> bool:
    """Whether the import breaks ``rule``."""
    other_app = imp.target_app in FLOORS and imp.target_app != imp.app
    if rule == "ml":
        # Plain PyTorch: no Django and no app, not even its own.
        return imp.module.startswith("classification.ml") and (
            imp.target_app in ["django", "rest_framework", *FLOORS]
            and not imp.target.startswith("classification.ml")
        )
    if rule == "libraries":
        return imp.app in LIBRARIES and imp.target_app in [*DJANGO, *FLOORS]
    if not other_app or imp.type_only or imp.app not in FLOORS:
        return False
    layer = imp.target.split(".")[1] if "." in imp.target else ""
    if rule == "floors":
        higher = FLOORS.index(imp.target_app) > FLOORS.index(imp.app)
        composer = any(fnmatch(imp.path, pattern) for pattern in COMPOSERS)
        return higher and not (composer and layer in ("selectors", "services"))
    if rule == "selectors":
        policy = any(
            imp.target == p or imp.target.startswith(f"{p}.") for p in POLICIES
        )
        return (
            imp.app in READ_ONLY_THROUGH_SELECTORS
            and layer != "selectors"
            and not policy
        )
    if rule == "top":
        return imp.target_app == "dashboard"
    if rule == "models":
        return imp.app in NO_OTHER_MODELS and layer == "models"
    raise ValueError(rule)


def _broken(rule: str) -> list[str]:
    return sorted(
        f"{imp.module} imports {imp.target}" for imp in IMPORTS if _breaks(rule, imp)
    )


def test_the_source_is_read():
    # A sanity floor for the parser: these imports exist and are found.
    targets = {(imp.module, imp.target) for imp in IMPORTS}
    assert ("catalog.views", "catalog.selectors") in targets
    assert ("dashboard.selectors.scope", "catalog.selectors.image_queryset") in targets
    assert ("imaging.decode", "imaging.colour.to_rgb") in targets


def test_no_module_imports_a_higher_floor_outside_views_admin_and_commands():
    assert _broken("floors") == []


def test_dashboard_reads_other_apps_only_through_their_selectors():
    assert _broken("selectors") == []


def test_dashboard_and_webhooks_import_no_other_apps_models():
    assert _broken("models") == []


def test_classification_ml_imports_no_django_and_no_app():
    assert _broken("ml") == []


def test_imaging_imports_no_django_and_no_app():
    # Even a type hint: the package is for code that runs without Django.
    assert _broken("libraries") == []


def test_no_other_app_imports_the_dashboard():
    # The top floor: even pages do not compose it (the merchant's summary on
    # the product list is catalog's own selector).
    assert _broken("top") == []
