"""Time every pipeline stage on a 3-minute track against the floor (thin wrapper:
generation.audio.bench)."""

import json

from django.core.management.base import BaseCommand

from generation.audio.bench import run


class Command(BaseCommand):
    help = ("Benchmark a request on the production path (the stage functions jobs run) and on "
            "audio.pipeline.run_pipeline, each against the CLI floor (medians).")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one line of JSON")
        parser.add_argument("--length", type=float, default=180.0)
        parser.add_argument("--style", default="folk")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--repeats", type=int, default=3, help="runs; medians are reported")
        parser.add_argument("--path", choices=("production", "pipeline", "both"), default="both",
                            help="production: the stage functions jobs run; pipeline: audio.pipeline.run_pipeline")

    def handle(self, *args, json=False, length, style, seed, repeats, path, **options):
        from generation.services.bench import bench_production

        report = {}
        if path in ("production", "both"):
            report["production"] = bench_production(length_s=length, style=style, seed=seed, repeats=repeats)
        if path in ("pipeline", "both"):
            report["pipeline"] = run(length, style, seed, repeats)
        self.stdout.write(_dumps(report, indent=None if json else 2))


def _dumps(value, indent) -> str:
    return json.dumps(value, indent=indent)
