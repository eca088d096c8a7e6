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


def _imports_after(module: str) -> set[str]:
    import subprocess
    import sys

    code = f"import sys; import {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"CI": "1"})
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["generation", "generation.audio", "generation.gm"])
def test_importing_a_pure_package_does_not_import_fluidsynth(module):
    """Regression (h): generation/__init__.py imported fluidsynth for every import of the app."""
    loaded = _imports_after(module)
    assert "fluidsynth" not in loaded
    assert "django" not in loaded


def test_no_fault_injection_sits_in_the_production_path():
    """Regression (e): a drill's sleep (CADENZA_FAULT_STAGE_PAUSE_SECONDS) sat in job_run_phase."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for app in ("config", "accounts", "generation", "recommendations"):
        for path in (root / app).rglob("*.py"):
            text = path.read_text()
            assert "FAULT_STAGE_PAUSE" not in text, path
            if path.name == "jobs.py":
                assert "time.sleep" not in text, path


def test_importing_what_uses_pretty_midi_prints_nothing_even_on_ci():
    """Regression (CI): pyfluidsynth prints "'fluidsynth' was found at ..." on stdout when CI is
    set; bench_ranking's child, verify_track and every --json command print JSON there."""
    import os
    import subprocess
    import sys

    code = ("import generation.model.vocab, generation.audio.render, generation.audio.arrange, "
            "recommendations.engine.features")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "CI": "1"})
    assert out.stdout == ""
