"""The main job on the embedded default: a demo listener, their preferences, their first tracks."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import preferences_update, user_register
from generation.models import GenerationJob, JobStatus

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
    help = "Create the demo listener (printing the credentials) and compose their first tracks."

    def add_arguments(self, parser):
        parser.add_argument("--tracks", type=int, default=len(FIRST_TRACKS))

    def handle(self, *args, tracks: int, **options):
        from recommendations.services.generations import generation_request_create

        user = User.objects.filter(email=EMAIL).first()
        if user is None:
            user = user_register(email=EMAIL, password=PASSWORD, display_name="Demo listener")
            preferences_update(user=user, changes=PREFERENCES)
        done = GenerationJob.objects.filter(user=user, status=JobStatus.PUBLISHED).count()
        for overrides in FIRST_TRACKS[done:tracks]:
            started = time.perf_counter()
            job = generation_request_create(user=user, overrides=overrides)  # in-process on the default
            job.refresh_from_db()
            outcome = job.track.title if job.status == JobStatus.PUBLISHED else f"{job.error_code}: {job.error_message}"
            self.stdout.write(f"  {job.status:10} {outcome}  ({time.perf_counter() - started:.1f} s)")
        site = settings.SITE_URL
        self.stdout.write(self.style.SUCCESS(
            f"\nDemo listener: {EMAIL} / {PASSWORD}\n"
            f"Player:  {site}/   API docs: {site}/api/docs/   Admin: {site}/admin/ (createsuperuser first)\n"
            f"Token:   curl -s -X POST {site}/api/v1/auth/token -H 'Content-Type: application/json' "
            f"-d '{{\"email\": \"{EMAIL}\", \"password\": \"{PASSWORD}\"}}'"
        ))
