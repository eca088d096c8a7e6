"""Master an audio file to -14 LUFS / -1 dBTP (thin wrapper: generation.audio.master_file)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.audio.master_file import InputError, master_path


class Command(BaseCommand):
    help = "Master IN (wav/flac/mp3/ogg, mono or stereo, any rate) into OUT at -14 LUFS, -1 dBTP."

    def add_arguments(self, parser):
        parser.add_argument("input", type=Path)
        parser.add_argument("output", type=Path)
        parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
        parser.add_argument("--target-lufs", type=float, default=-14.0)
        parser.add_argument("--ceiling-dbtp", type=float, default=-1.0)

    def handle(self, *args, input, output, json=False, target_lufs, ceiling_dbtp, **options):  # noqa: A002
        try:
            report = master_path(input, output, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp)
        except InputError as exc:
            raise CommandError(str(exc)) from exc
        if json:
            self.stdout.write(_dumps({k: report[k] for k in ("input", "output")}))
        else:
            i, o = report["input"], report["output"]
            self.stdout.write(
                f"{input} ({i['lufs']} LUFS, {i['true_peak_dbtp']} dBTP) -> {output} "
                f"({o['lufs']} LUFS, {o['true_peak_dbtp']} dBTP, LRA {o['lra']} LU)"
            )


def _dumps(value) -> str:
    return json.dumps(value)
