"""Compose an approved shared catalog across styles and moods with the real pipeline."""

import json as jsonlib
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from generation.models import TERMINAL_STATUSES, GenerationJob, JobStatus, TrackStatus
from recommendations.services import catalog


class Command(BaseCommand):
    help = ("Compose N catalog tracks of S seconds (styles × moods), approve them; resumable: a rerun "
            "makes only the tracks still missing. In-process on the embedded default; with "
            "CELERY_BROKER_URL the workers compose and this waits for them.")

    def add_arguments(self, parser):
        parser.add_argument("--tracks", type=int, required=True)
        parser.add_argument("--seconds", type=float, default=45.0)
        parser.add_argument("--timeout", type=float, default=6 * 3600, help="workers: seconds to wait")
        parser.add_argument("--json", action="store_true", help="print one JSON object at the end")

    def handle(self, *args, tracks: int, seconds: float, timeout: float, json: bool, **options):
        if tracks < 1 or not 5 <= seconds <= 600:
            raise CommandError("--tracks must be ≥ 1 and --seconds within 5..600")
        curator = catalog.catalog_curator()
        started = time.perf_counter()
        made = resumed = 0
        jobs = []
        with tqdm(total=tracks, desc="seed_catalog", unit="track", disable=json) as bar:
            for index in range(tracks):
                planned = catalog.plan(index)
                job, new = catalog.catalog_job(curator=curator, planned=planned, seconds=seconds)
                made, resumed = made + new, resumed + (not new)
                jobs.append(job.id)
                catalog.catalog_approve(curator=curator)
                bar.set_postfix_str(f"{planned.style}/{planned.mood}")
                bar.update(1)
        deadline = time.monotonic() + timeout
        while not settings.CELERY_TASK_ALWAYS_EAGER and GenerationJob.objects.filter(id__in=jobs).exclude(
                status__in=TERMINAL_STATUSES).exists():
            if time.monotonic() > deadline:
                raise CommandError("timed out waiting for the workers (rerun to resume)")
            catalog.catalog_approve(curator=curator)
            time.sleep(1.0)
        catalog.catalog_approve(curator=curator)
        statuses = dict.fromkeys(("published", "failed", "rejected", "unfinished"), 0)
        for status in GenerationJob.objects.filter(id__in=jobs).values_list("status", flat=True):
            key = status if status in (JobStatus.PUBLISHED, JobStatus.FAILED, JobStatus.REJECTED) else "unfinished"
            statuses[key] += 1
        report = {
            "planned": tracks, "made_now": made, "already_there": resumed, **statuses,
            "catalog_tracks": GenerationJob.objects.filter(user=curator, track__status=TrackStatus.CATALOG).count(),
            "wall_s": round(time.perf_counter() - started, 1),
        }
        self.stdout.write(jsonlib.dumps(report, indent=2) if json else "\n".join(f"{k}: {v}" for k, v in report.items()))

