"""The main job on the embedded default: a demo listener, a small shared catalog, their first
tracks, and their first personal playlist (printed, and served by GET /api/v1/me/playlist)."""

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import preferences_update, user_register
from generation.models import GenerationJob, JobStatus
from recommendations import selectors
from recommendations.services.generations import generation_request_create
from recommendations.services.playlists import playlist_rebuild

EMAIL = "demo@cadenza.local"
PASSWORD = "listen-to-the-demo-2026"
PREFERENCES = {
    "styles": ["piano", "chamber", "folk"],
    "moods": ["calm", "happy", "melancholic"],
    "tempo_min": 66,
    "tempo_max": 120,
    "energy": 0.4,
    "preferred_instruments": ["piano", "strings"],
    "avoided_instruments": ["brass"],
    "mode": "any",
    "length_min_s": 40,
    "length_max_s": 60,
    "exploration": 0.3,
}
FIRST_TRACKS = ({"style": "piano", "mood": "calm"}, {"style": "chamber", "mood": "melancholic"},
                {"style": "folk", "mood": "happy"})


class Command(BaseCommand):
    help = ("Create the demo listener (printing the credentials), seed a small shared catalog, compose "
            "their first tracks and build their first personal playlist.")

    def add_arguments(self, parser):
        parser.add_argument("--tracks", type=int, default=len(FIRST_TRACKS), help="the listener's own tracks")
        parser.add_argument("--catalog", type=int, default=3, help="shared catalog tracks (seed_catalog)")
        parser.add_argument("--seconds", type=float, default=45.0, help="length of the catalog tracks")
        parser.add_argument("--addr", default="127.0.0.1:8000",
                            help="where the server will listen (the printed links use it unless SITE_URL is set)")

    def handle(self, *args, tracks: int, catalog: int, seconds: float, addr: str, **options):
        user = User.objects.filter(email=EMAIL).first()
        if user is None:
            user = user_register(email=EMAIL, password=PASSWORD, display_name="Demo listener")
            preferences_update(user=user, changes=PREFERENCES)
        if catalog:
            self.stdout.write(f"Shared catalog ({catalog} tracks of {seconds:g} s, resumable):")
            call_command("seed_catalog", "--tracks", str(catalog), "--seconds", str(seconds), stdout=self.stdout)
        done = GenerationJob.objects.filter(user=user, status=JobStatus.PUBLISHED).count()
        if done < tracks:
            self.stdout.write("The demo listener's first tracks:")
        for overrides in FIRST_TRACKS[done:tracks]:
            started = time.perf_counter()
            job = generation_request_create(user=user, overrides=overrides)  # in-process on the default
            job.refresh_from_db()
            outcome = job.track.title if job.status == JobStatus.PUBLISHED else f"{job.error_code}: {job.error_message}"
            self.stdout.write(f"  {job.status:10} {outcome}  ({time.perf_counter() - started:.1f} s)")
        from generation.services.demo import demo_review_queue_ensure, demo_reviewer_ensure

        reviewer = demo_reviewer_ensure()
        waiting = demo_review_queue_ensure(
            listener=user, minimum=tracks,
            compose=lambda overrides: generation_request_create(user=user, overrides=overrides),
        )
        self._playlist(user)
        site = settings.SITE_URL.rstrip("/") or f"http://{addr}"  # where `make demo` serves
        self.stdout.write(self.style.SUCCESS(
            f"\nDemo listener: {EMAIL} / {PASSWORD}\n"
            f"Demo reviewer: {reviewer.email} / {reviewer.password}   "
            f"Review queue: {site}/admin/generation/track/ ({len(waiting)} waiting)\n"
            f"Player:  {site}/   API docs: {site}/api/docs/   Admin: {site}/admin/\n"
            f"Token:   ACCESS=$(curl -s -X POST {site}/api/v1/auth/token -H 'Content-Type: application/json' "
            f"-d '{{\"email\": \"{EMAIL}\", \"password\": \"{PASSWORD}\"}}' | python3 -c 'import json,sys; "
            f"print(json.load(sys.stdin)[\"access\"])')\n"
            f"Playlist: curl -s {site}/api/v1/me/playlist -H \"Authorization: Bearer $ACCESS\"\n"
            f"Taste:    curl -s {site}/api/v1/me/taste -H \"Authorization: Bearer $ACCESS\""
        ))

    def _playlist(self, user: User) -> None:
        playlist = playlist_rebuild(user=user)
        entries = selectors.playlist_entries(user=user, playlist=playlist)
        self.stdout.write(f"\nThe demo listener's first personal playlist ({len(entries)} items):")
        for entry in entries:
            if entry["kind"] == "track":
                track = entry["track"]
                self.stdout.write(f"  {entry['position'] + 1:2}. {track['title']:40} {entry['reason']}"
                                  f"  [{len(track['streams'])} streams]")
            else:
                self.stdout.write(f"  {entry['position'] + 1:2}. (being composed: job {entry['job'].id})")
