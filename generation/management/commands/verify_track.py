"""Regenerate a track's MIDI from its provenance record and compare it, byte for byte; with
``--audio`` every rendition too, decoded PCM sample for sample."""

import json

from django.core.management.base import BaseCommand, CommandError

from generation.models import Track
from generation.services.verification import track_verify


class Command(BaseCommand):
    help = "Regenerate the MIDI of a track from its provenance and compare sha256 (composed and arranged)."

    def add_arguments(self, parser):
        parser.add_argument("track_id", nargs="?", help="track id; omit with --all")
        parser.add_argument("--all", action="store_true", help="verify every published track")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--audio", action="store_true",
                            help="also regenerate every rendition and compare its decoded PCM, sample for sample")

    def handle(self, *args, track_id=None, all=False, json=False, audio=False, **options):  # noqa: A002
        if not track_id and not all:
            raise CommandError("give a track id or --all")
        tracks = Track.objects.filter(provenance__isnull=False)
        if track_id:
            tracks = tracks.filter(id=track_id)
            if not tracks.exists():
                raise CommandError(f"no published track {track_id}")
        results = [track_verify(track=track, audio=audio) for track in tracks.select_related("provenance")]
        report = results[0] if track_id else {
            "tracks": len(results),
            "midi_sha256_match": sum(r["midi_sha256_match"] for r in results),
            **({"renditions": sum(len(r.get("renditions", [])) for r in results),
                "renditions_pcm_match": sum(x["pcm_match"] for r in results for x in r.get("renditions", []))}
               if audio else {}),
            "results": results,
        }
        self.stdout.write(_dumps(report))
        if not all_match(results):
            raise CommandError("MIDI did not regenerate byte for byte")
        if audio and not audio_all_match(results):
            raise CommandError("a rendition's audio did not regenerate sample for sample")


def all_match(results) -> bool:
    return all(r["midi_sha256_match"] for r in results)


def audio_all_match(results) -> bool:
    return all(r.get("audio_match") for r in results)


def _dumps(report) -> str:
    return json.dumps(report, indent=2)
