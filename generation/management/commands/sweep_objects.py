"""Delete objects no row references, older than the grace period (the periodic task's job)."""

import json
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from generation.services.sweeper import objects_sweep


class Command(BaseCommand):
    help = "Delete unreferenced objects older than --grace-seconds."

    def add_arguments(self, parser):
        parser.add_argument("--grace-seconds", type=float, default=None)

    def handle(self, *args, grace_seconds, **options):
        grace = timedelta(seconds=grace_seconds if grace_seconds is not None else settings.CADENZA_SWEEP_GRACE_SECONDS)
        deleted = objects_sweep(grace=grace)
        self.stdout.write(json.dumps({"deleted": len(deleted), "keys": deleted}))
