"""Fault drills with real processes: PostgreSQL, Redis, Celery workers, the loopback S3 API.

- Workers are killed with SIGKILL inside every stage, at least five times per stage: every job
  still ends published exactly once (or failed with a reason), with no duplicate track and no
  orphan object after the sweeper.
- The S3 endpoint answers 503 for a while: jobs retry with backoff and finish when it returns;
  if it never returns they fail cleanly at the attempt limit.
- Fifty listeners' requests race for a quota of K: exactly K are accepted.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count

from generation.models import TERMINAL_STATUSES, GenerationJob, JobStatus, JobTransition, Track
from generation.services import jobs
from generation.services.sweeper import is_referenced, referenced_keys
from recommendations.services.generations import generation_request_create
from tests.generation import workers

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STAGES = ("composing", "arranging", "rendering", "mastering", "encoding", "checking", "publishing")
KILLS_PER_STAGE = 5
REQUEST = {"style": "piano", "length_s": 30}
REDIS_DB = int(os.environ.get("CADENZA_TEST_REDIS_DB", "11"))  # parallel checkouts: pick another pair
LOST_DB = REDIS_DB + 2


def _redis_or_skip() -> str:
    import redis

    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    try:
        # empty the queues, keep kombu's exchange bindings (this process's producer remembers them)
        redis.Redis.from_url(url, socket_connect_timeout=1).delete(
            "compose", "render", "publish", "unacked", "unacked_index"
        )
        redis.Redis.from_url(f"redis://127.0.0.1:6379/{LOST_DB}").flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return url


@pytest.fixture
def services(s3, debug_checkpoint, dev_certs, settings, tmp_path):
    """The test database, a Redis broker and a bucket, as a worker's environment."""
    if connection.vendor != "postgresql":
        pytest.skip("worker drills need PostgreSQL (CI sets DATABASE_URL)")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from generation.provenance.licence import private_key_pem

    broker = _redis_or_skip()
    client, bucket = s3
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = workers.worker_env(
        database_url=database_url, broker_url=broker, s3_endpoint=settings.STORAGES["default"]["OPTIONS"]["endpoint_url"],
        bucket=bucket, checkpoint=debug_checkpoint, certs=dev_certs,
        licence_key_pem=private_key_pem(Ed25519PrivateKey.generate()).decode(),
    )
    # This process's own enqueues go to a broker database no worker reads: as far as the workers
    # can tell, every in-process enqueue is lost (a crash between commit and enqueue), so only
    # the reaper, run as its own process the way beat runs it, sends jobs to them.
    from config.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = f"redis://127.0.0.1:6379/{LOST_DB}"
    yield {"env": env, "client": client, "bucket": bucket, "log": tmp_path / "worker.log"}
    app.conf.task_always_eager = True


def _request_jobs(user, n: int, env: dict[str, str]) -> list[str]:
    """Create jobs as the API does; a separate process (the reaper, as beat runs it) enqueues them."""
    ids = [str(generation_request_create(user=user, overrides={**REQUEST, "seed": 1000 + i}).id) for i in range(n)]
    # their sends went to a broker database no worker reads: as the records go, never sent
    GenerationJob.objects.filter(id__in=ids).update(enqueued_at=None)
    reaped = json.loads(workers.manage(env, "reap_jobs", "--stale-seconds", "0"))["reaped"]
    assert set(ids) <= set(reaped)
    return ids


class Beat:
    """What Celery beat does for the reaper, every few seconds instead of every minute; ``reaped``
    counts what it re-sent."""

    def __init__(self, env: dict[str, str], every: float = 5.0, stale_seconds: float = 10.0):
        self.env, self.every, self.stale, self.stop = env, every, stale_seconds, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.reaped: Counter[str] = Counter()
        self.beats = 0

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            out = workers.manage(self.env, "reap_jobs", "--stale-seconds", str(self.stale))
            self.reaped.update(json.loads(out)["reaped"])
            self.beats += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def _wait(job_ids, *, timeout: float, on_tick=None) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = dict(GenerationJob.objects.filter(id__in=job_ids).values_list("id", "status"))
        statuses = {str(k): v for k, v in statuses.items()}
        if all(s in TERMINAL_STATUSES for s in statuses.values()):
            return statuses
        if on_tick:
            on_tick(statuses)
        time.sleep(0.05)
    raise AssertionError(f"jobs did not finish in {timeout}s: {Counter(statuses.values())}")


def _bucket_keys(client, bucket) -> set[str]:
    keys, token = set(), None
    while True:
        page = client.list_objects_v2(Bucket=bucket, **({"ContinuationToken": token} if token else {}))
        keys |= {item["Key"] for item in page.get("Contents", [])}
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


def _assert_nothing_lost_nothing_duplicated(job_ids, services):
    for job in GenerationJob.objects.filter(id__in=job_ids):
        if job.status == JobStatus.PUBLISHED:
            assert Track.objects.filter(job=job).count() == 1
        else:
            assert job.error_code and job.error_message, job.id
            assert not Track.objects.filter(job=job).exists()
    assert Track.objects.count() == GenerationJob.objects.filter(status=JobStatus.PUBLISHED).count()
    workers.manage(services["env"], "sweep_objects", "--grace-seconds", "0")
    stored = {k for k in _bucket_keys(services["client"], services["bucket"]) if not k.startswith("reviews/")}
    referenced = referenced_keys()
    orphans = sorted(key for key in stored if not is_referenced(key, referenced))
    missing = sorted(referenced - stored)
    assert not orphans and not missing, {"orphans": orphans[:5], "missing": missing[:5]}
    # every published track's MIDI regenerates byte for byte from its provenance record
    verified = json.loads(workers.manage(services["env"], "verify_track", "--all", "--audio", "--json", timeout=900))
    print(f"verify_track --all --audio: {verified['midi_sha256_match']} of {verified['tracks']} regenerate byte for "
          f"byte, {verified['renditions_pcm_match']} of {verified['renditions']} renditions sample for sample")
    assert verified["tracks"] == Track.objects.count()
    assert verified["midi_sha256_match"] == verified["tracks"]
    assert verified["renditions_pcm_match"] == verified["renditions"]


def test_workers_killed_in_every_stage_still_publish_each_job_once(services, alice):
    env = services["env"]
    kills: Counter[str] = Counter()
    killed_in: dict[str, Counter[str]] = {}
    job_ids = _request_jobs(alice, 12, env)

    with workers.running(env, log=services["log"], stage_pause_s=0.8) as worker, Beat(env):
        def maybe_kill(statuses: dict[str, str]) -> None:
            """Kill the pool process that holds a job in a stage that still needs kills."""
            running = GenerationJob.objects.filter(id__in=job_ids, status__in=STAGES).exclude(lease_owner="").exclude(lease_worker="")
            for job_id, status, holder in running.values_list("id", "status", "lease_worker"):
                job_kills = killed_in.setdefault(str(job_id), Counter())
                phase = jobs.PHASE_OF_STATUS[status]
                if kills[status] >= KILLS_PER_STAGE or job_kills[phase] >= 3:
                    continue
                if worker.kill(int(holder.rsplit(":", 1)[1])):
                    kills[status] += 1
                    job_kills[phase] += 1
                    return

        statuses = _wait(job_ids, timeout=900, on_tick=maybe_kill)

    print(f"kills per stage: {dict(kills)}; outcomes: {Counter(statuses.values())}")
    assert all(kills[s] >= KILLS_PER_STAGE for s in STAGES), dict(kills)
    assert Counter(statuses.values())[JobStatus.PUBLISHED] >= len(job_ids) - 2
    _assert_nothing_lost_nothing_duplicated(job_ids, services)
    retried = JobTransition.objects.filter(job_id__in=job_ids, attempt__gt=1).count()
    assert retried > 0  # the killed stages were resumed by redelivered tasks


def test_jobs_retry_while_s3_fails_and_finish_when_it_returns(services, alice):
    proxy = workers.FaultyS3Proxy(services["env"]["AWS_S3_ENDPOINT_URL"])
    env = {**services["env"], "AWS_S3_ENDPOINT_URL": proxy.url, "CADENZA_JOB_MAX_ATTEMPTS": "8"}
    try:
        job_ids = _request_jobs(alice, 2, env)
        proxy.mode = "503"
        with workers.running(env, log=services["log"]):
            deadline = time.monotonic() + 120
            while proxy.failed_requests < 4 and time.monotonic() < deadline:  # the jobs hit the outage
                time.sleep(0.2)
            assert proxy.failed_requests >= 4
            assert not GenerationJob.objects.filter(id__in=job_ids, status__in=TERMINAL_STATUSES).exists()
            proxy.mode = "pass"
            statuses = _wait(job_ids, timeout=300)
    finally:
        proxy.close()
    assert set(statuses.values()) == {JobStatus.PUBLISHED}
    _assert_nothing_lost_nothing_duplicated(job_ids, services)


def test_jobs_fail_cleanly_when_s3_never_returns(services, alice):
    proxy = workers.FaultyS3Proxy(services["env"]["AWS_S3_ENDPOINT_URL"])
    env = {**services["env"], "AWS_S3_ENDPOINT_URL": proxy.url, "CADENZA_JOB_MAX_ATTEMPTS": "3"}
    try:
        job_ids = _request_jobs(alice, 1, env)
        proxy.mode = "503"
        with workers.running(env, log=services["log"]):
            statuses = _wait(job_ids, timeout=300)
    finally:
        proxy.close()
    job = GenerationJob.objects.get(id=job_ids[0])
    assert statuses[job_ids[0]] == JobStatus.FAILED
    # the task's retries or the job's attempt limit, whichever comes first, names the storage error
    assert job.error_code in {"storage_unavailable", "attempt_limit"}
    assert "503" in job.error_message or "Service Unavailable" in job.error_message, job.error_message


def test_a_job_lost_between_commit_and_enqueue_is_reaped_by_a_worker(services, alice):
    job = generation_request_create(user=alice, overrides=REQUEST)  # its enqueue is lost (see services)
    GenerationJob.objects.filter(id=job.id).update(updated_at=job.updated_at - timedelta(minutes=5), enqueued_at=None)
    with workers.running(services["env"], log=services["log"]):
        assert str(job.id) in workers.manage(services["env"], "reap_jobs")
        statuses = _wait([str(job.id)], timeout=300)
    assert statuses[str(job.id)] == JobStatus.PUBLISHED
    _assert_nothing_lost_nothing_duplicated([str(job.id)], services)


def test_exactly_k_of_50_concurrent_requests_pass_the_quota(services, settings, client_for):
    from tests.factories import UserFactory

    settings.CADENZA_GENERATION_QUOTA_PER_DAY = 5
    user = UserFactory(email=f"racer-{uuid.uuid4().hex[:6]}@example.com")
    codes: list[int] = []
    barrier = threading.Barrier(50)

    def request() -> None:
        client = client_for(user)
        barrier.wait()
        codes.append(client.post("/api/v1/generations", {"style": "folk"}, format="json").status_code)
        connection.close()

    threads = [threading.Thread(target=request) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(codes) == {202: 5, 429: 45}
    assert GenerationJob.objects.filter(user=user).count() == 5


def test_jobs_waiting_behind_a_backlog_are_not_resent(services, alice):
    """Regression (d): 20 jobs queued behind one worker, the reaper beating every 2 s with a 1 s
    staleness: no job is re-sent while it waits, no stage runs twice, one track per job. The
    drills' 20 s visibility timeout (for fast redelivery after kills) would make a message that
    waits 5 min 20 s "lost"; a backlog on a loaded machine waits that long, so this drill uses the
    production bound (visibility timeout 3600 s + 300 s; the lost rule has its own test)."""
    env = {**services["env"], "CADENZA_JOB_LOST_AFTER_SECONDS": "3900"}
    job_ids = _request_jobs(alice, 20, env)  # one reaper pass sends all 20 at once: the backlog
    started = time.monotonic()
    with workers.running(env, log=services["log"], concurrency=1), Beat(env, every=2.0, stale_seconds=1.0) as beat:
        statuses = _wait(job_ids, timeout=1800)
    repeated = [
        (str(row["job_id"]), row["to_status"])
        for row in JobTransition.objects.filter(job_id__in=job_ids).values("job_id", "to_status")
        .annotate(n=Count("id")).filter(n__gt=1)
    ]
    tracks_per_job = Counter(str(j) for j in Track.objects.filter(job_id__in=job_ids).values_list("job_id", flat=True))
    figures = {
        "drill": "backlog", "jobs": len(job_ids), "workers": 1, "beats": beat.beats,
        "resends": sum(beat.reaped.values()), "duplicate_stage_runs": len(repeated),
        "duplicate_tracks": sum(n - 1 for n in tracks_per_job.values() if n > 1),
        "outcomes": dict(Counter(statuses.values())), "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(figures))
    assert figures["resends"] == 0, figures
    assert not repeated and figures["duplicate_tracks"] == 0, figures
    assert set(statuses.values()) == {JobStatus.PUBLISHED}, figures
    _assert_nothing_lost_nothing_duplicated(job_ids, services)
