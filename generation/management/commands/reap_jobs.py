"""Re-enqueue stuck jobs once (the periodic task does the same every minute under Celery beat)."""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand

from generation.services.jobs import jobs_reap


class Command(BaseCommand):
    help = "Re-enqueue jobs stuck in queued, or holding an expired lease."

    def add_arguments(self, parser):
        parser.add_argument("--stale-seconds", type=float, default=120.0, help="queued this long = stuck")

    def handle(self, *args, stale_seconds: float, **options):
        reaped = jobs_reap(stale_after=timedelta(seconds=stale_seconds))
        self.stdout.write(json.dumps({"reaped": reaped}))
