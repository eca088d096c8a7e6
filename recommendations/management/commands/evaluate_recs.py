"""Evaluate the recommender in a simulator of listeners (thin wrapper: recommendations.engine).

``--compose-sample N`` instead composes N real tracks and writes the data file the simulator's
documents come from (recommendations/engine/data/tracks.json).
"""

import json
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

QUICK = {"listeners": 12, "seeds": 3, "sessions": 4, "per_session": 10, "cohort": 6}


class Command(BaseCommand):
    help = "Simulated listeners: Cadenza against random, popularity, stated-only, a library bandit and an oracle."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one line of JSON")
        parser.add_argument("--quick", action="store_true", help="a few listeners and sessions (seconds; the test suite)")
        parser.add_argument("--listeners", type=int, default=None)
        parser.add_argument("--seeds", type=int, default=None)
        parser.add_argument("--sessions", type=int, default=None)
        parser.add_argument("--per-session", type=int, default=None)
        parser.add_argument("--cohort", type=int, default=None)
        parser.add_argument("--policies", default=None, help="comma-separated subset of the policies")
        parser.add_argument("--compose-sample", type=int, default=0, metavar="N",
                            help="compose N real tracks and write the simulator's data file instead")

    def handle(self, *args, json=False, quick=False, compose_sample=0, policies=None, **options):
        if compose_sample:
            self._compose_sample(compose_sample)
            return
        from recommendations.engine import evaluation, sampledata

        try:
            runs = sampledata.load()["tracks"]
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        fields = dict(QUICK) if quick else {}
        for name in ("listeners", "seeds", "sessions", "per_session", "cohort"):
            if options.get(name) is not None:
                fields[name] = options[name]
        chosen = [p.strip() for p in policies.split(",")] if policies else list(evaluation.POLICIES)
        unknown = set(chosen) - set(evaluation.POLICIES)
        if unknown:
            raise CommandError(f"unknown policies: {', '.join(sorted(unknown))} (known: {', '.join(evaluation.POLICIES)})")
        if "bandit" in chosen and not evaluation.bandit_available():
            self.stderr.write("the library bandit needs Vowpal Wabbit: pip install -e '.[eval]' "
                              "(reported under \"missing\"; the other policies run)")
        report = evaluation.evaluate(runs, evaluation.Config(**fields), policies=chosen,
                                     progress=lambda msg: self.stderr.write(msg))
        self.stdout.write(_dumps(report, indent=None if json else 2))

    def _compose_sample(self, n: int) -> None:
        from generation import pipeline
        from recommendations.engine import sampledata

        bundle = pipeline.model_bundle()
        meta = {
            "model": f"{bundle.model_name}-{bundle.model_version}",
            "checkpoint_sha256": bundle.checkpoint_sha256,
            "compose_options": dict(settings.CADENZA_COMPOSE_OPTIONS),
            "code": _revision(),
        }

        def progress(done: int, total: int, row: dict | None) -> None:
            note = (row.get("error") or f"{row['style']} {row['seconds']}s") if row else ""
            sys.stderr.write(f"\rcomposed {done}/{total} {note[:60]:<60}")
            sys.stderr.flush()

        data = sampledata.build(n, bundle=bundle, compose_options=dict(settings.CADENZA_COMPOSE_OPTIONS),
                                meta=meta, progress=progress)
        sys.stderr.write("\n")
        self.stdout.write(_dumps({"tracks": len(data["tracks"]), "failures": len(data["failures"]),
                                  "file": str(sampledata.TRACKS_FILE)}, indent=None))


def _revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=settings.BASE_DIR).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _dumps(value, indent) -> str:
    return json.dumps(value, indent=indent)
