"""Compare a MIDI file with every known work music21 ships (thin wrapper: generation.model.originality)."""

import json

from django.core.management.base import BaseCommand, CommandError

from generation.midi_lib import pretty_midi
from generation.model.originality import check_originality, load_index


class Command(BaseCommand):
    help = "Longest transposition- and re-timing-invariant melodic match against known works; verdict."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .mid file")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, file, json=False, **options):
        try:
            pm = pretty_midi.PrettyMIDI(file)
        except Exception as e:  # noqa: BLE001 - any unreadable file is a usage error
            raise CommandError(f"cannot read {file}: {e}") from e
        result = check_originality(pm, load_index())
        if json:
            self.stdout.write(_dumps(result))
        else:
            self.stdout.write(
                f"{result['verdict']}: longest match {result['longest_match_notes']} notes "
                f"({result['nearest_piece']})")


def _dumps(value):
    return json.dumps(value)
