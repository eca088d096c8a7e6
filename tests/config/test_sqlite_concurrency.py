"""The embedded default takes concurrent writers: a real server on a SQLite file, 8 writers × 15
rounds of PATCH /me/preferences and POST /generations for one listener → 0 server errors, the
quota exact, every preference write a version of its own.

Run alone to print the figures: ``pytest tests/config/test_sqlite_concurrency.py -s`` (JSON line).
Tasks go to a Redis database no worker reads: the drill is about the database, not composing.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITERS, ROUNDS, QUOTA = 8, 15, 20
REDIS_DB = int(os.environ.get("CADENZA_TEST_REDIS_DB", "11"))

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(base: str, method: str, path: str, body=None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"{}")
        except ValueError:
            return error.code, {"raw": raw[:200].decode(errors="replace")}


@pytest.fixture
def server(tmp_path):
    import redis

    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"sqlite:///{tmp_path / 'drill.sqlite3'}",
        CADENZA_MEDIA_ROOT=str(tmp_path / "media"), CELERY_BROKER_URL=broker, LOG_LEVEL="ERROR",
        CADENZA_GENERATION_QUOTA_PER_DAY=str(QUOTA), THROTTLE_USER="100000/min",
        THROTTLE_GENERATIONS="100000/min", THROTTLE_REGISTER="1000/min", THROTTLE_ANON="100000/min",
        DJANGO_DEBUG="false",
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _call(base, "GET", "/api/v1/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        redis.Redis.from_url(broker).delete("compose", "render", "publish")


def test_concurrent_writers_on_the_embedded_sqlite_default_get_no_server_errors(server):
    status, _ = _call(server, "POST", "/api/v1/auth/register", {"email": "drill@example.com", "password": "a-long-passphrase-1"})
    assert status == 201
    status, tokens = _call(server, "POST", "/api/v1/auth/token", {"email": "drill@example.com", "password": "a-long-passphrase-1"})
    token = tokens["access"]
    codes: Counter[str] = Counter()
    barrier = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        barrier.wait()
        for round_ in range(ROUNDS):
            energy = (number * ROUNDS + round_ + 1) / (WRITERS * ROUNDS + 1)  # every write a new value
            patch, _ = _call(server, "PATCH", "/api/v1/me/preferences", {"energy": energy}, token)
            post, _ = _call(server, "POST", "/api/v1/generations", {"style": "folk", "length_s": 30}, token)
            codes[f"PATCH {patch}"] += 1
            codes[f"POST {post}"] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    _, generations = _call(server, "GET", "/api/v1/generations?page_size=200", token=token)
    _, export = _call(server, "GET", "/api/v1/me/export", token=token)
    server_errors = sum(n for key, n in codes.items() if key.split()[1].startswith("5"))
    figures = {
        "drill": "sqlite_concurrent_writers", "writers": WRITERS, "rounds": ROUNDS,
        "requests": sum(codes.values()), "server_errors": server_errors, "codes": dict(sorted(codes.items())),
        "quota": QUOTA, "jobs_stored": len(generations["results"]),
        "preference_versions": len(export["preference_versions"]),
    }
    print(json.dumps(figures))
    assert server_errors == 0, figures
    assert codes["POST 202"] == QUOTA and codes["POST 429"] == WRITERS * ROUNDS - QUOTA, figures
    assert figures["jobs_stored"] == QUOTA
    assert codes["PATCH 200"] == WRITERS * ROUNDS
    versions = sorted(v["version"] for v in export["preference_versions"])
    assert versions == list(range(1, WRITERS * ROUNDS + 2))  # version 1 + one per write, none lost
