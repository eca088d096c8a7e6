"""End-to-end throughput: N generation jobs through real Celery worker processes.

Needs the production task path (CELERY_BROKER_URL set); starts its own `celery worker` with
--concurrency (default 2) on the same settings, submits the jobs through the service, and waits.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from generation.model.conditioning import Conditioning
from generation.models import TERMINAL_STATUSES, GenerationJob, JobStatus
from generation.requests import GenerationRequest


def bench_request(length_s: float) -> GenerationRequest:
    """The same piece for every job: the default four-part piano request, arranged as piano."""
    return GenerationRequest(Conditioning.default(), style="piano", mood=None, length_s=float(length_s))


class Command(BaseCommand):
    help = "Jobs/s end to end with N worker processes for short tracks (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--jobs", type=int, default=8)
        parser.add_argument("--length-s", type=int, default=30)
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--timeout", type=float, default=1800)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        from generation.services.jobs import generation_job_create

        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("set CELERY_BROKER_URL: this measures real worker processes")
        user = User.objects.create_user(f"bench-{uuid.uuid4().hex[:10]}@cadenza.invalid", uuid.uuid4().hex)
        worker = self._start_worker(o["concurrency"])
        try:
            time.sleep(3)  # let the pool come up before the clock starts
            started = time.perf_counter()
            ids = [
                generation_job_create(user=user, request=bench_request(o["length_s"]), seed=i).id
                for i in range(o["jobs"])
            ]
            while GenerationJob.objects.filter(id__in=ids).exclude(status__in=TERMINAL_STATUSES).exists():
                if time.perf_counter() - started > o["timeout"]:
                    raise CommandError("timed out")
                time.sleep(0.2)
            wall = time.perf_counter() - started
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
        report = self._report(ids, wall, o)
        user.delete()
        self.stdout.write(json.dumps(report, indent=2))

    def _start_worker(self, concurrency: int) -> subprocess.Popen:
        celery = str(Path(sys.executable).with_name("celery"))
        return subprocess.Popen(
            [celery, "-A", "config", "worker", "-Q", "compose,render,publish", "-c", str(concurrency),
             "-n", f"bench-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
             "--loglevel", "ERROR"],
            cwd=settings.BASE_DIR, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def _report(self, ids, wall: float, o) -> dict:
        jobs = list(GenerationJob.objects.filter(id__in=ids).prefetch_related("transitions"))
        latencies = [(j.updated_at - j.created_at).total_seconds() for j in jobs if j.status == JobStatus.PUBLISHED]
        stage_seconds: dict[str, list[float]] = {}
        for job in jobs:
            for stage in ("composition", "arrangement", "mix", "master", "gates"):
                if stage in job.work and "seconds" in job.work[stage]:
                    stage_seconds.setdefault(stage, []).append(job.work[stage]["seconds"])
            if "encode_seconds" in job.work:
                stage_seconds.setdefault("encode", []).append(job.work["encode_seconds"])
        return {
            "jobs": len(jobs),
            "published": sum(j.status == JobStatus.PUBLISHED for j in jobs),
            "failed": [f"{j.error_code}: {j.error_message[:120]}" for j in jobs if j.status != JobStatus.PUBLISHED],
            "track_length_s": o["length_s"],
            "worker_processes": o["concurrency"],
            "wall_s": round(wall, 2),
            "jobs_per_s": round(len(latencies) / wall, 4),
            "job_latency_s": {"median": round(statistics.median(latencies), 2), "max": round(max(latencies), 2)} if latencies else None,
            "stage_seconds_median": {k: round(statistics.median(v), 3) for k, v in stage_seconds.items()},
            "checkpoint": str(settings.CADENZA_CHECKPOINT),
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "storage": "s3" if settings.AWS_STORAGE_BUCKET_NAME else "local",
        }
