"""Under real Celery workers with Redis on PostgreSQL: an events batch changes the next
GET /api/v1/me/playlist within a second (the taste task runs in a worker process of its own)."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest
from django.db import connection

from generation.models import TrackStatus
from recommendations.models import PersonalPlaylist
from tests.generation.workers import CELERY, ROOT
from tests.recommendations.conftest import SOUNDS, complete, make_track, skip

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_DB = int(os.environ.get("CADENZA_TEST_REDIS_DB", "11"))


@pytest.fixture
def recommend_worker(tmp_path):
    """A `celery worker -Q recommend` process on the test's database and a Redis broker."""
    if connection.vendor != "postgresql":
        pytest.skip("worker tests need PostgreSQL (CI sets DATABASE_URL)")
    import redis

    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=1).delete("recommend", "unacked", "unacked_index")
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=broker, CADENZA_RECS_COMPOSE_AHEAD_ON_EVENTS="false", LOG_LEVEL="WARNING",
    )
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [CELERY, "-A", "config", "worker", "-Q", "recommend", "-c", "1", "-P", "prefork", "-n",
         f"recs-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    from config.celery import app

    previous = app.conf.broker_url
    _point_producers_at(app, broker)
    app.conf.task_always_eager = False
    try:
        yield process
    finally:
        app.conf.task_always_eager = True
        _point_producers_at(app, previous)
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def _point_producers_at(app, broker: str) -> None:
    """Send this process's tasks to ``broker``: a pool made for an earlier URL (another test's)
    would keep sending there."""
    app.conf.broker_url = broker
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


def _wait_for_version(user, above: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        version = PersonalPlaylist.objects.filter(user=user).values_list("version", flat=True).first() or 0
        if version > above:
            return time.monotonic() - started
        time.sleep(0.01)
    raise AssertionError(f"the playlist did not change in {timeout} s")


def test_an_events_batch_changes_the_next_playlist_within_a_second(recommend_worker, alice, bob, client_for):
    catalog = [make_track(bob, style, tempo + n, mode, fams, status=TrackStatus.CATALOG)
               for style, tempo, mode, fams in SOUNDS for n in range(3)]
    client = client_for(alice)
    first = client.get("/api/v1/me/playlist").json()  # built in this process, on first read
    heard = [next(t for t in catalog if str(t.id) == item["track"]["id"]) for item in first["items"][:4]]
    # warm up: the worker's first task imports and connects; wait for it however long it takes
    client.post("/api/v1/me/events", {"events": [complete(heard[0])]}, format="json")
    _wait_for_version(alice, first["version"], timeout=60)
    before = client.get("/api/v1/me/playlist").json()

    posted = time.monotonic()
    response = client.post("/api/v1/me/events", {"events": [skip(t, at_ms=400) for t in heard[1:]]}, format="json")
    assert response.json()["accepted"] == 3
    while True:
        after = client.get("/api/v1/me/playlist").json()
        if after["version"] > before["version"]:
            break
        assert time.monotonic() - posted < 5, "no change after 5 s"
        time.sleep(0.01)
    elapsed = time.monotonic() - posted
    print(f"\nworkers: the playlist changed {elapsed:.3f} s after the batch")
    assert elapsed < 1.0, f"the playlist changed {elapsed:.2f} s after the batch"
    assert not {str(t.id) for t in heard} & {i["track"]["id"] for i in after["items"] if i["kind"] == "track"}
    assert after["taste_version"] == before["taste_version"] + 1
