"""classification/ml/ is plain PyTorch: no Django, no app, no circle inside.

It decodes and converts images with ``imaging``, the package below every app
that uploads use too.
"""

import ast
from pathlib import Path

import classification.ml

ML = Path(classification.ml.__file__).parent
APPS = ("accounts", "catalog", "classification", "config", "dashboard", "webhooks")


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, whether at the module's top level) for each import."""
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.module, id(node) in top))
    return found


def _graph() -> dict[str, set[str]]:
    return {
        path.stem: {
            name.removeprefix("classification.ml.")
            for name, _ in _imports(path)
            if name.startswith("classification.ml.")
        }
        for path in ML.glob("*.py")
    }


def test_ml_imports_no_django_and_no_other_app():
    for path in ML.glob("*.py"):
        for name, _ in _imports(path):
            root = name.split(".")[0]
            if name.startswith("classification.ml"):
                continue
            assert root != "django", f"{path.name} imports {name}"
            assert root not in APPS, f"{path.name} imports {name}"


def test_ml_modules_import_each_other_at_the_top_only():
    # A deferred import between ml/ modules would hide a circle rather than
    # remove it. (Deferring torch, so that web processes need not load it, is
    # another matter.)
    for path in ML.glob("*.py"):
        deferred = [
            name
            for name, at_top in _imports(path)
            if name.startswith("classification.") and not at_top
        ]
        assert deferred == [], f"{path.name} defers {deferred}"


def test_no_circle_of_imports_inside_ml():
    graph = _graph()
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = [*trail[trail.index(module) :], module]
            raise AssertionError("import circle: " + " -> ".join(cycle))
        if module in done:
            return
        for imported in graph.get(module, ()):
            visit(imported, [*trail, module])
        done.add(module)

    for module in graph:
        visit(module, [])
