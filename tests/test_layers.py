"""The apps are layered: indicators ← feedback ← review, with portal on top.

A module may import its own app and the apps below it, never one above, at
module level or inside a function (``ast.walk`` sees both). ``portal`` only
wires the apps together, so no app imports it. A lower app that must let a
higher one act does so through ``feedback.hooks``.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["indicators", "feedback", "review", "portal"]


def _imported_top_packages(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((alias.name.split(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def _modules(app: str) -> list[Path]:
    return sorted((ROOT / app).rglob("*.py"))


@pytest.mark.parametrize("app", LAYERS)
def test_no_module_imports_a_higher_layer(app):
    rank = LAYERS.index(app)
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {package}"
        for path in _modules(app)
        for package, line in _imported_top_packages(path)
        if package in LAYERS and LAYERS.index(package) > rank
    ]
    assert not upward, "Imports pointing up the layers:\n" + "\n".join(sorted(upward))


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from review import services\n", encoding="utf-8")
    assert ("review", 2) in _imported_top_packages(module)


def test_every_app_is_checked():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps <= set(LAYERS), f"Apps missing from LAYERS: {apps - set(LAYERS)}"
