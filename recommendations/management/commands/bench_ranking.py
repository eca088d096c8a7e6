"""Time ranking for one listener (pure part: recommendations.engine.bench, one core) and
GET /api/v1/me/playlist through the whole Django stack (recommendations.playlist_timing)."""

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "p50/p95 ms to rank 100,000 and 1,000,000 candidates (one thread) and to GET /api/v1/me/playlist."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one line of JSON")
        parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
        parser.add_argument("--repeats", type=int, default=50, help="rank calls per size")
        parser.add_argument("--k", type=int, default=50, help="playlist length ranked")
        parser.add_argument("--playlist-tracks", type=int, default=10_000,
                            help="catalog size for the GET /api/v1/me/playlist timing (0 = skip)")

    def handle(self, *args, json=False, sizes, repeats, k, playlist_tracks, **options):
        report = {"ranking": ranking_report(sizes, repeats=repeats, k=k)}
        if playlist_tracks:
            from recommendations.playlist_timing import time_playlist_get

            report["playlist_get"] = time_playlist_get(tracks=playlist_tracks)
        self.stdout.write(_dumps(report, indent=None if json else 2))


def ranking_report(sizes: list[int], *, repeats: int, k: int) -> dict:
    """The pure part: engine.bench in a child process with BLAS/OpenMP threads set to 1."""
    from recommendations.engine.bench import run_isolated

    report = run_isolated(sizes, repeats=repeats, k=k)
    report["note"] = ("one core: the child process runs with OPENBLAS_NUM_THREADS=OMP_NUM_THREADS="
                      "MKL_NUM_THREADS=1; scan_only_ms is the X @ theta floor measured in the same run")
    return report


def _dumps(value, indent) -> str:
    return json.dumps(value, indent=indent)
