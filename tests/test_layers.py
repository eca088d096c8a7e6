"""Apps depend downwards: recommendations → generation → accounts, never back up (not even inside
a function). Read from the source, so a new upward import anywhere fails the suite."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ABOVE = {"accounts": {"generation", "recommendations"}, "generation": {"recommendations"}}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
            "import_module", "import_string", "__import__"
        } and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            names.add(node.args[0].value.split(".")[0])
    return names


def sources(app: str) -> list[Path]:
    return [p for p in sorted((ROOT / app).rglob("*.py")) if "migrations" not in p.parts]


@pytest.mark.parametrize("app", sorted(ABOVE))
def test_it_imports_nothing_from_an_app_above(app):
    upward = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & ABOVE[app])
        for path in sources(app)
        if imported_packages(path) & ABOVE[app]
    }
    assert upward == {}, f"{app} must not import {sorted(ABOVE[app])}"


def test_it_finds_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from recommendations.taste import x\n    import generation.models\n")
    assert imported_packages(module) == {"recommendations", "generation"}
