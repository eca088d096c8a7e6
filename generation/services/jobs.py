"""Generation jobs: creation under a quota, the state machine, leases, the reaper.

A job moves ``queued → composing → arranging → rendering → mastering → encoding → checking →
publishing → published`` (or ``failed`` / ``rejected``). Only this module moves it. Each move is a
compare-and-set on the job row and is recorded as a JobTransition. A task claims a job by taking
its lease (owner = the Celery task id, which survives redelivery), so a redelivered task resumes
its own work at once, and a lease left by a dead worker expires for the reaper.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import PreferenceVersion, User
from accounts.selectors import preferences_snapshot
from generation import storage_errors
from generation.model.conditioning import SCHEMA_VERSION
from generation.models import TERMINAL_STATUSES, GenerationJob, JobStatus, JobTransition
from generation.requests import GenerationRequest

log = logging.getLogger(__name__)

ORDER: tuple[str, ...] = (
    JobStatus.QUEUED,
    JobStatus.COMPOSING,
    JobStatus.ARRANGING,
    JobStatus.RENDERING,
    JobStatus.MASTERING,
    JobStatus.ENCODING,
    JobStatus.CHECKING,
    JobStatus.PUBLISHING,
    JobStatus.PUBLISHED,
)
# Which task (and so which queue) works on a job in each status.
PHASE_OF_STATUS: dict[str, str] = {
    JobStatus.QUEUED: "compose",
    JobStatus.COMPOSING: "compose",
    JobStatus.ARRANGING: "render",
    JobStatus.RENDERING: "render",
    JobStatus.MASTERING: "render",
    JobStatus.ENCODING: "render",
    JobStatus.CHECKING: "render",
    JobStatus.PUBLISHING: "publish",
}


class QuotaExceeded(Exception):
    """The listener has used their generations for the period."""


class StorageUnavailable(Exception):
    """Storage is down, throttling or timing out (see ``generation.storage_errors``): retry later."""


class LeaseLost(Exception):
    """Another worker owns the job now (or it has moved on): stop without writing."""


def next_status(status: str) -> str:
    return ORDER[ORDER.index(status) + 1]


def progress(status: str) -> int:
    """0–100 for the API: how far along the state machine a job is."""
    if status in (JobStatus.FAILED, JobStatus.REJECTED):
        return 100
    return round(100 * ORDER.index(status) / (len(ORDER) - 1))


# ------------------------------------------------------------------------------------------------
# Creation
# ------------------------------------------------------------------------------------------------
def _title(mood: str | None, style: str, conditioning) -> str:
    names = ["C", "D♭", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B"]
    key = f"{names[conditioning.key_tonic]} {conditioning.mode}"
    return f"{(mood or style).replace('-', ' ').title()} {style.replace('-', ' ')} in {key}"


def generation_job_create(
    *,
    user: User,
    request: GenerationRequest,
    seed: int,
    overrides: dict[str, Any] | None = None,
    preference_version: PreferenceVersion | None = None,
    charge_quota: bool = True,
) -> GenerationJob:
    """Store a ready request as a job and enqueue it after commit, taking one unit of the
    listener's daily quota atomically (QuotaExceeded past it). ``overrides`` and
    ``preference_version`` record what the request was planned from; ``charge_quota=False`` is for
    operators' commands (seeding the shared catalog), never for a listener's request."""
    request = request.validate()
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)  # serialises this listener's requests
        if charge_quota:
            used = generations_used_today(user=user)
            if used >= settings.CADENZA_GENERATION_QUOTA_PER_DAY:
                raise QuotaExceeded(f"{used} generations in the last 24 hours")
        job = GenerationJob.objects.create(
            user=user,
            overrides=overrides or {},
            conditioning_schema=SCHEMA_VERSION,
            conditioning=request.conditioning.to_vector(),
            preference_version=preference_version,
            preference_snapshot=preferences_snapshot(version=preference_version),
            style=request.style,
            seed=seed,
            length_s=request.length_s,
            work={
                "request": request.as_dict(),
                "title": _title(request.mood, request.style, request.conditioning),
                "provenance_id": str(uuid.uuid4()),
            },
        )
        _record(job, JobStatus.QUEUED, JobStatus.QUEUED, note="created")
        transaction.on_commit(lambda: enqueue_or_leave_to_reaper(job))
    return job


def generations_used_today(*, user: User) -> int:
    """Jobs the listener created in the last 24 hours (what the daily quota counts)."""
    since = timezone.now() - timedelta(days=1)
    return GenerationJob.objects.filter(user=user, created_at__gte=since).count()


def enqueue_or_leave_to_reaper(job: GenerationJob) -> None:
    """Enqueue after commit; if the broker is down the job stays queued and the reaper sends it."""
    try:
        enqueue(job)
    except Exception:  # noqa: BLE001 - any broker failure: the committed job is not lost
        log.exception("could not enqueue job %s; the reaper will", job.id)


def enqueue(job: GenerationJob) -> None:
    """Send the job to the task of its current phase (the queue decides which workers), recording
    that it was sent: a job whose task waits in the broker is not the reaper's (see ``jobs_reap``)."""
    from generation import tasks

    phase = PHASE_OF_STATUS.get(job.status)
    if phase is None:
        return
    sent = GenerationJob.objects.filter(id=job.id)
    sent.update(enqueued_at=timezone.now())  # before the send: an eager task runs inside delay()
    try:
        tasks.TASK_OF_PHASE[phase].delay(str(job.id))
    except Exception:
        sent.update(enqueued_at=None)  # never reached the broker: the reaper sends it
        raise


# ------------------------------------------------------------------------------------------------
# Claims and moves
# ------------------------------------------------------------------------------------------------
@dataclass
class Claim:
    job: GenerationJob
    owner: str


def worker_id() -> str:
    """This process as ``host:pid`` (asked per claim: prefork pool processes are forks)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def job_claim(*, job_id: str, phase: str, owner: str) -> Claim | None:
    """Take the job's lease for ``phase`` if it is free, expired, or already ours (a redelivery).

    Returns None when there is nothing to do: the job is elsewhere in its life, or another live
    worker holds it. Counts an attempt; past the limit the job fails as a poison job.
    """
    now = timezone.now()
    statuses = [status for status, p in PHASE_OF_STATUS.items() if p == phase]
    free = Q(lease_owner="") | Q(lease_owner=owner) | Q(lease_expires_at__lt=now)
    updated = GenerationJob.objects.filter(Q(id=job_id, status__in=statuses) & free).update(
        lease_owner=owner,
        lease_worker=worker_id(),
        lease_expires_at=now + timedelta(seconds=settings.CADENZA_JOB_LEASE_SECONDS),
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not updated:
        return None
    job = GenerationJob.objects.get(id=job_id)
    if job.attempts > settings.CADENZA_JOB_MAX_ATTEMPTS:
        last = f"; last error: {job.error_message}" if job.error_message else ""
        job_fail(job=job, owner=owner, code="attempt_limit", message=f"gave up after {job.attempts - 1} attempts{last}")
        return None
    return Claim(job=job, owner=owner)


def job_advance(*, claim: Claim, work: dict[str, Any] | None = None) -> GenerationJob:
    """Move the claimed job to its next status, merging ``work``; LeaseLost if it is not ours."""
    job = claim.job
    target = next_status(job.status)
    merged = {**job.work, **(work or {})}
    with transaction.atomic():
        now = timezone.now()
        updated = GenerationJob.objects.filter(id=job.id, status=job.status, lease_owner=claim.owner).update(
            status=target,
            work=merged,
            updated_at=now,
            lease_expires_at=now + timedelta(seconds=settings.CADENZA_JOB_LEASE_SECONDS),  # renewed per stage
        )
        if not updated:
            raise LeaseLost(str(job.id))
        _record(job, job.status, target)
    job.status, job.work = target, merged
    return job


@contextmanager
def lease_kept(*, job_id, owner: str, every_s: float | None = None) -> Iterator[None]:
    """Renew the job's lease every third of its length while the block runs (one stage), so a
    stage slower than the lease (a long track on a loaded machine) is not taken for a dead
    worker's and re-sent. A worker that dies stops renewing with it, and the lease runs out
    as before; a renewal only extends a lease this owner still holds."""
    lease_s = settings.CADENZA_JOB_LEASE_SECONDS
    every_s = lease_s / 3 if every_s is None else every_s
    stop = threading.Event()

    def renew() -> None:
        try:
            while not stop.wait(every_s):
                GenerationJob.objects.filter(id=job_id, lease_owner=owner).update(
                    lease_expires_at=timezone.now() + timedelta(seconds=lease_s))
        except Exception:  # noqa: BLE001 - a missed renewal only lets the reaper take the job back
            log.exception("could not renew the lease of job %s", job_id)
        finally:
            connections.close_all()  # this thread's own connections

    keeper = threading.Thread(target=renew, name=f"lease-{job_id}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join(timeout=30)


def job_release(*, claim: Claim, next_enqueued: bool = True) -> None:
    """Give the lease back so the next phase's task can take the job; an error retried earlier
    in the phase is behind it now. The caller enqueues the next phase right after this commits, so
    the release already counts the job as sent (``next_enqueued``): between the two statements the
    reaper must not take it for a job never sent (a loaded machine stalls there for seconds); an
    enqueue that fails clears ``enqueued_at`` again, and the reaper sends it."""
    now = timezone.now()
    GenerationJob.objects.filter(id=claim.job.id, lease_owner=claim.owner).update(
        lease_owner="", lease_worker="", lease_expires_at=None, attempts=0, error_code="", error_message="",
        enqueued_at=now if next_enqueued else None, updated_at=now,
    )


def job_note_error(*, job_id: str, code: str, message: str) -> None:
    """Remember a retried error on a job still in flight (shown by the API, kept if it fails)."""
    GenerationJob.objects.filter(id=job_id).exclude(status__in=TERMINAL_STATUSES).update(
        error_code=code, error_message=message[:2000]
    )


def job_fail(*, job: GenerationJob, owner: str | None, code: str, message: str, rejected: bool = False) -> None:
    """End a job as failed (or rejected by a quality gate), with the reason."""
    target = JobStatus.REJECTED if rejected else JobStatus.FAILED
    query = GenerationJob.objects.filter(id=job.id).exclude(status__in=TERMINAL_STATUSES)
    if owner is not None:
        query = query.filter(lease_owner=owner)
    with transaction.atomic():
        ended = query.update(
            status=target, error_code=code, error_message=message[:2000], lease_owner="", lease_worker="", lease_expires_at=None
        )
        if ended:
            _record(job, job.status, target, note=f"{code}: {message}"[:500])
    log.warning("job %s %s: %s %s", job.id, target, code, message)


def _record(job: GenerationJob, from_status: str, to_status: str, *, note: str = "") -> None:
    JobTransition.objects.create(job=job, from_status=from_status, to_status=to_status, attempt=job.attempts, note=note)


# ------------------------------------------------------------------------------------------------
# Reaper
# ------------------------------------------------------------------------------------------------
def jobs_reap(*, stale_after: timedelta = timedelta(minutes=2), lost_after: timedelta | None = None) -> list[str]:
    """Re-enqueue jobs nobody will work on: never sent (a crash between commit and enqueue, or the
    broker down) and idle for ``stale_after``; sent so long ago (``lost_after``: the broker's
    visibility timeout, past which it would have redelivered) that the message must be lost; or
    holding an expired lease (a worker that died). A job whose task is merely waiting in the queue
    behind a backlog is left alone (until ``lost_after``): re-sending it would only queue duplicates."""
    now = timezone.now()
    if lost_after is None:
        lost_after = timedelta(seconds=settings.CADENZA_JOB_LOST_AFTER_SECONDS)
    unleased = Q(lease_owner="")
    stuck = GenerationJob.objects.exclude(status__in=TERMINAL_STATUSES).filter(
        (unleased & Q(enqueued_at__isnull=True, updated_at__lt=now - stale_after))
        | (unleased & Q(enqueued_at__lt=now - lost_after))
        | Q(lease_expires_at__lt=now)
    )
    reaped = []
    for job in stuck:
        taken = GenerationJob.objects.filter(id=job.id, lease_owner=job.lease_owner, updated_at=job.updated_at).update(
            lease_owner="", lease_worker="", lease_expires_at=None, updated_at=now
        )
        if taken:  # not moved meanwhile by a worker (nor by a concurrent reaper)
            enqueue(job)
            reaped.append(str(job.id))
    return reaped


# ------------------------------------------------------------------------------------------------
# Running a phase (what a task does)
# ------------------------------------------------------------------------------------------------
def job_run_phase(*, job_id: str, phase: str, owner: str) -> str | None:
    """Claim the job and run its stages of ``phase`` in order; then hand it to the next phase.

    Storage that is down, throttling or timing out raises StorageUnavailable (the task retries it
    with backoff); a missing object or a permission error fails the job at once with its own code
    (``storage_missing`` / ``storage_forbidden``); a quality-gate Rejection ends it as rejected;
    any other error fails it with the reason.
    """
    from generation.services.stages import STAGES, NoSigningChain, Rejection

    claim = job_claim(job_id=job_id, phase=phase, owner=owner)
    if claim is None:
        return None
    job = claim.job
    try:
        while PHASE_OF_STATUS.get(job.status) == phase:
            with lease_kept(job_id=job.id, owner=owner):
                work = STAGES[job.status](job) if job.status in STAGES else {}
            job = job_advance(claim=claim, work=work)
    except LeaseLost:
        return None
    except Rejection as rejection:
        job_fail(job=job, owner=owner, code=rejection.code, message=str(rejection), rejected=True)
        return JobStatus.REJECTED
    except NoSigningChain as missing:
        job_fail(job=job, owner=owner, code="no_signing_chain", message=str(missing))
        return JobStatus.FAILED
    except Exception as error:  # noqa: BLE001 - the job records any failure with its reason
        failure = storage_errors.classify(error)
        if failure is not None and failure.transient:
            raise StorageUnavailable(f"{type(error).__name__}: {error}") from error  # the task retries
        code = failure.code if failure is not None else "stage_error"
        log.exception("job %s failed in %s (%s)", job.id, job.status, code)
        job_fail(job=job, owner=owner, code=code, message=f"{job.status}: {type(error).__name__}: {error}")
        return JobStatus.FAILED
    job_release(claim=claim, next_enqueued=job.status not in TERMINAL_STATUSES)
    if job.status not in TERMINAL_STATUSES:
        transaction.on_commit(lambda: enqueue(job))
    return job.status
