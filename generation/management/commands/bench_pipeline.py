"""Time every pipeline stage on a 3-minute track against the floor (thin wrapper:
generation.audio.bench)."""

import json

from django.core.management.base import BaseCommand

from generation.audio.bench import run


class Command(BaseCommand):
    help = "Benchmark compose→arrange→render→mix→master→encode→gates and the CLI floor."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one line of JSON")
        parser.add_argument("--length", type=float, default=180.0)
        parser.add_argument("--style", default="folk")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--repeats", type=int, default=3, help="runs; medians are reported")

    def handle(self, *args, json=False, length, style, seed, repeats, **options):
        report = run(length, style, seed, repeats)
        self.stdout.write(_dumps(report, indent=None if json else 2))


def _dumps(value, indent) -> str:
    return json.dumps(value, indent=indent)
