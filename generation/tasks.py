"""Celery tasks: each loads a job by id and calls one service. Queues per phase."""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from generation.services import jobs

RETRY_CAP_S = 60.0


def _backoff(retries: int) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(RETRY_CAP_S, settings.CADENZA_RETRY_BASE_SECONDS * 2**retries))


def _run(task, job_id: str, phase: str) -> str | None:
    try:
        return jobs.job_run_phase(job_id=job_id, phase=phase, owner=task.request.id or f"local-{job_id}")
    except jobs.StorageUnavailable as error:
        message = str(error)
        if task.request.retries >= settings.CADENZA_JOB_MAX_ATTEMPTS or task.request.is_eager:
            job = jobs.GenerationJob.objects.get(id=job_id)
            jobs.job_fail(job=job, owner=None, code="storage_unavailable", message=message)
            return None
        jobs.job_note_error(job_id=job_id, code="storage_unavailable", message=message)
        raise task.retry(exc=error, countdown=_backoff(task.request.retries)) from error


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def compose_job(self, job_id: str) -> str | None:
    """Compose (the model; a GPU pool may take this queue)."""
    return _run(self, job_id, "compose")


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def render_job(self, job_id: str) -> str | None:
    """Arrange, render, mix, master, encode and check."""
    return _run(self, job_id, "render")


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def publish_job(self, job_id: str) -> str | None:
    """Write the track, its provenance and licence."""
    return _run(self, job_id, "publish")


@shared_task
def reap_jobs() -> list[str]:
    """Periodic: re-enqueue jobs stuck in queued or holding an expired lease."""
    return jobs.jobs_reap()


@shared_task
def sweep_objects() -> int:
    """Periodic: delete objects no row references, older than the grace period."""
    from generation.services.sweeper import objects_sweep

    return len(objects_sweep())


TASK_OF_PHASE = {"compose": compose_job, "render": render_job, "publish": publish_job}
