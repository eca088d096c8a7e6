"""Benchmark listening-event ingest through the API layer (auth, parsing, validation, insert)."""

import json as jsonlib
import statistics
import time
import uuid
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from generation.models import Track, TrackStatus


class Command(BaseCommand):
    help = "POST N listening events in batches through /api/v1/me/events and print events/s."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=100_000)
        parser.add_argument("--batch", type=int, default=500)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, events: int, batch: int, json: bool, **options):
        user, track = self._fixtures()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        try:
            report = self._run(client, track, events, batch)
        finally:
            user.delete()
            Track.objects.filter(id=track.id).delete()
        report["database"] = connection.vendor
        self.stdout.write(jsonlib.dumps(report, indent=2) if json else "\n".join(f"{k}: {v}" for k, v in report.items()))

    def _fixtures(self) -> tuple[User, Track]:
        user = User.objects.create_user(f"bench-{uuid.uuid4().hex[:12]}@cadenza.invalid", uuid.uuid4().hex)
        track = Track.objects.create(title="bench", style="piano", duration_s=60, status=TrackStatus.CATALOG)
        return user, track

    def _run(self, client: APIClient, track: Track, total: int, batch: int) -> dict:
        now = timezone.now()
        latencies: list[float] = []
        accepted = 0
        started = time.perf_counter()
        for start in range(0, total, batch):
            payload = {
                "events": [
                    {
                        "client_event_id": str(uuid.uuid4()),
                        "track": str(track.id),
                        "kind": "progress",
                        "position_ms": (start + n) * 10,
                        "occurred_at": (now - timedelta(seconds=n)).isoformat(),
                    }
                    for n in range(min(batch, total - start))
                ]
            }
            t0 = time.perf_counter()
            response = client.post("/api/v1/me/events", payload, format="json")
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise RuntimeError(f"batch at {start} answered {response.status_code}: {response.content[:200]!r}")
            accepted += response.json()["accepted"]
        wall = time.perf_counter() - started
        latencies.sort()
        return {
            "events": total,
            "batch_size": batch,
            "accepted": accepted,
            "wall_s": round(wall, 3),
            "events_per_s": round(total / wall, 1),
            "events_per_s_in_requests": round(total / sum(latencies), 1),
            "batch_latency_ms": {
                "median": round(statistics.median(latencies) * 1000, 2),
                "p95": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 2),
                "max": round(latencies[-1] * 1000, 2),
            },
            "goal_events_per_s": 5000,
        }

