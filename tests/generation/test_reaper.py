"""The reaper re-sends jobs nobody will work on, and never one whose task is waiting in the queue."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from generation.models import GenerationJob, JobStatus
from generation.services import jobs
from tests.factories import job_for

pytestmark = pytest.mark.django_db


def _aged(job, *, idle: timedelta, enqueued: timedelta | None):
    now = timezone.now()
    GenerationJob.objects.filter(id=job.id).update(
        updated_at=now - idle, enqueued_at=None if enqueued is None else now - enqueued
    )


def test_the_reaper_does_not_resend_a_job_merely_waiting_in_the_queue(alice):
    """Regression (d): every unleased job idle for 2 minutes was re-sent on every beat."""
    job = job_for(alice)
    _aged(job, idle=timedelta(minutes=30), enqueued=timedelta(minutes=30))
    assert jobs.jobs_reap() == []


def test_the_reaper_sends_a_job_that_was_never_sent(alice):
    job = job_for(alice)
    _aged(job, idle=timedelta(minutes=5), enqueued=None)
    with mock.patch.object(jobs, "enqueue") as enqueue:
        assert jobs.jobs_reap() == [str(job.id)]
    enqueue.assert_called_once()


def test_the_reaper_resends_a_job_sent_longer_ago_than_the_broker_would_redeliver(alice, settings):
    job = job_for(alice)
    _aged(job, idle=timedelta(seconds=settings.CADENZA_JOB_LOST_AFTER_SECONDS + 60),
          enqueued=timedelta(seconds=settings.CADENZA_JOB_LOST_AFTER_SECONDS + 60))
    with mock.patch.object(jobs, "enqueue"):
        assert jobs.jobs_reap() == [str(job.id)]


def test_the_reaper_takes_back_an_expired_lease(alice):
    job = job_for(alice)
    GenerationJob.objects.filter(id=job.id).update(
        lease_owner="dead-task", lease_expires_at=timezone.now() - timedelta(seconds=1), enqueued_at=timezone.now()
    )
    with mock.patch.object(jobs, "enqueue"):
        assert jobs.jobs_reap() == [str(job.id)]
    assert GenerationJob.objects.get(id=job.id).lease_owner == ""


def test_job_release_touches_updated_at_and_counts_the_next_send(alice):
    """Regression (d): job_release left updated_at as it was, so a released job looked idle at once."""
    job = job_for(alice)
    _aged(job, idle=timedelta(hours=1), enqueued=timedelta(hours=1))
    claim = jobs.job_claim(job_id=str(job.id), phase="compose", owner="task-1")
    jobs.job_release(claim=claim)
    job.refresh_from_db()
    assert job.updated_at > timezone.now() - timedelta(seconds=5)
    assert job.enqueued_at > timezone.now() - timedelta(seconds=5) and job.lease_owner == ""
    jobs.job_release(claim=jobs.job_claim(job_id=str(job.id), phase="compose", owner="task-2"), next_enqueued=False)
    assert GenerationJob.objects.get(id=job.id).enqueued_at is None


def test_a_released_job_stalled_before_its_next_send_is_not_resent(alice):
    """Regression (backlog drill on a loaded machine, 13 re-sends): between job_release and the
    next phase's enqueue the job looked never sent, and a 1 s reaper sent it a second time."""
    job = job_for(alice)
    claim = jobs.job_claim(job_id=str(job.id), phase="compose", owner="task-1")
    jobs.job_release(claim=claim)
    GenerationJob.objects.filter(id=job.id).update(updated_at=timezone.now() - timedelta(minutes=5))  # a long stall
    with mock.patch.object(jobs, "enqueue") as enqueue:
        assert jobs.jobs_reap(stale_after=timedelta(seconds=1)) == []
    enqueue.assert_not_called()


def test_a_send_the_broker_refused_leaves_the_job_to_the_reaper(alice):
    job = job_for(alice)
    from generation import tasks

    with mock.patch.object(tasks.compose_job, "delay", side_effect=ConnectionError("broker down")):
        jobs.enqueue_or_leave_to_reaper(job)
    assert GenerationJob.objects.get(id=job.id).enqueued_at is None


def test_a_successful_send_is_recorded(alice):
    job = job_for(alice)
    from generation import tasks

    with mock.patch.object(tasks.compose_job, "delay"):
        jobs.enqueue(job)
    job.refresh_from_db()
    assert job.enqueued_at is not None and job.status == JobStatus.QUEUED


@pytest.mark.django_db(transaction=True)
def test_a_stage_slower_than_the_lease_keeps_its_lease_and_is_not_resent(alice, settings):
    """Regression (backlog drill on a loaded machine, 17 re-sends): with a 15 s lease renewed only
    between stages, a stage that took longer looked like a dead worker's and the reaper re-sent it."""
    import time

    settings.CADENZA_JOB_LEASE_SECONDS = 1
    job = job_for(alice)
    claim = jobs.job_claim(job_id=str(job.id), phase="compose", owner="task-1")
    with jobs.lease_kept(job_id=job.id, owner=claim.owner, every_s=0.2):
        time.sleep(1.6)  # the stage, longer than the lease
        with mock.patch.object(jobs, "enqueue") as enqueue:
            assert jobs.jobs_reap() == []
        enqueue.assert_not_called()
    time.sleep(1.2)  # the worker is gone: nobody renews, the lease runs out
    with mock.patch.object(jobs, "enqueue"):
        assert jobs.jobs_reap() == [str(job.id)]
