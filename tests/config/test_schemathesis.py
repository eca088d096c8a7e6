"""Schemathesis over /api/schema/: every operation, as a listener and anonymously, with all its
checks (phases: coverage, fuzzing, stateful) → 0 failures of any check.

Rules the schema cannot express (a password policy, opaque cursors, ids that must name the
listener's tracks, cross-field ranges) are allowed per operation in ``schemathesis.toml``, each
with its reason. ``DELETE /me`` erases the listener, so it runs last, as a listener of its own.
Prints one JSON line of figures (run with ``-s``); ``CADENZA_SCHEMATHESIS_EXAMPLES`` (default 10)
bounds the examples per operation and phase. Among them: how many operations answered only statuses
their schema documents, read off the server's own request log (every request schemathesis made).
"""

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.live import ROOT, listener_token, running_server

pytestmark = pytest.mark.slow
ST = str(Path(sys.executable).with_name("st"))
EXAMPLES = os.environ.get("CADENZA_SCHEMATHESIS_EXAMPLES", "10")


def _run(base: str, report: Path, *args: str) -> dict:
    command = [ST, "run", f"{base}/api/schema/", "--checks", "all", "-n", EXAMPLES, "--seed", "12",
               "--no-shrink", "--report", "json", "--report-json-path", str(report), *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert report.exists(), result.stdout[-3000:] + result.stderr[-2000:]
    document = json.loads(report.read_text())
    document["output_tail"] = result.stdout[-6000:]
    return document


REQUEST_LINE = re.compile(r'"(GET|POST|PUT|PATCH|DELETE) ([^ ?"]+)[^"]* HTTP/1\.[01]" (\d{3}) ')


def _statuses_by_operation(schema: dict, log: str) -> dict[tuple[str, str], set[str]]:
    """(method, path template) → the statuses the server answered it, from runserver's log."""
    templates = [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), path)
                 for path in schema["paths"]]
    seen: dict[tuple[str, str], set[str]] = {}
    for method, path, status in REQUEST_LINE.findall(log):
        template = next((t for pattern, t in templates if pattern.match(path)), None)
        if template is not None and method.lower() in schema["paths"][template]:
            seen.setdefault((method, template), set()).add(status)
    return seen


def test_schemathesis_finds_no_failures_as_a_listener_and_anonymously(tmp_path):
    if not Path(ST).exists():
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    with running_server(tmp_path, JWT_ACCESS_MINUTES="120", CADENZA_GENERATION_QUOTA_PER_DAY="100000") as base:
        listener = listener_token(base, "schemathesis@example.com")
        runs = {
            "listener": _run(base, tmp_path / "listener.json", "-H", f"Authorization: Bearer {listener}",
                             "--exclude-name", "DELETE /api/v1/me"),
            "anonymous": _run(base, tmp_path / "anonymous.json"),
            "listener_erasing_itself": _run(base, tmp_path / "erase.json", "-H",
                                            f"Authorization: Bearer {listener_token(base, 'leaver@example.com')}",
                                            "--include-name", "DELETE /api/v1/me"),
        }
        with urllib.request.urlopen(f"{base}/api/schema/?format=json", timeout=60) as response:
            schema = json.load(response)
    seen = _statuses_by_operation(schema, (tmp_path / "server.log").read_text(errors="replace"))
    documented = {(method.upper(), path): set(op["responses"]) for path, methods in schema["paths"].items()
                  for method, op in methods.items()}
    undocumented = {f"{m} {p}": sorted(codes - documented[(m, p)]) for (m, p), codes in seen.items()
                    if codes - documented[(m, p)]}
    figures: dict = {"drill": "schemathesis", "examples_per_phase": int(EXAMPLES)}
    failures: Counter[str] = Counter()
    for name, run in runs.items():
        figures[name] = {"operations_tested": run["operations"]["tested"], "cases": run["test_cases"]["generated"],
                         "errored": run["test_cases"]["errored"] + len(run["errors"])}
        for failure in run["failures"]:
            failures[f"{failure['code']} {failure['title']}"] += failure["count"]
    figures["failures_by_check"] = dict(failures)
    figures["cases"] = sum(run["test_cases"]["generated"] for run in runs.values())
    figures["operations_in_schema"] = len(documented)
    figures["operations_answered"] = len(seen)
    figures["operations_documenting_every_status_answered"] = len(seen) - len(undocumented)
    figures["undocumented_statuses"] = undocumented
    print(json.dumps(figures))
    assert runs["listener"]["operations"]["tested"] == runs["listener"]["operations"]["total"] - 1
    assert runs["anonymous"]["operations"]["tested"] == runs["anonymous"]["operations"]["total"]
    for name, run in runs.items():
        assert not run["failures"] and not run["errors"], (name, run["failures"], run["errors"], run["output_tail"])
    assert len(seen) == len(documented) and not undocumented, undocumented
