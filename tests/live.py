"""A real server on the embedded default (runserver on a SQLite file of its own), for drills and
schemathesis: tasks go to a Redis database no worker reads (the drills are about the API)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REDIS_DB = int(os.environ.get("CADENZA_TEST_REDIS_DB", "11"))
UNTHROTTLED = {f"THROTTLE_{scope}": "100000/min" for scope in
               ("USER", "ANON", "GENERATIONS", "REGISTER", "REGISTER_EMAIL", "LOGIN", "EVENTS", "REPORTS")}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base: str, method: str, path: str, body=None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            if not response.headers.get("Content-Type", "").startswith("application/json"):
                return response.status, {"raw": raw[:200]}
            return response.status, json.loads(raw or b"{}")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"{}")
        except ValueError:
            return error.code, {"raw": raw[:200].decode(errors="replace")}


def listener_token(base: str, email: str, password: str = "a-long-passphrase-1") -> str:
    status, _ = call(base, "POST", "/api/v1/auth/register", {"email": email, "password": password})
    assert status == 201
    return call(base, "POST", "/api/v1/auth/token", {"email": email, "password": password})[1]["access"]


def server_env(folder: Path, **settings: str) -> dict[str, str]:
    """The environment of a server on ``folder``'s SQLite file and media (no CADENZA_SITE_URL:
    links are relative, as on any host)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST", "DJANGO_SETTINGS", "DATABASE_URL", "CADENZA_SITE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"sqlite:///{folder / 'live.sqlite3'}",
        CADENZA_MEDIA_ROOT=str(folder / "media"), CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        LOG_LEVEL="ERROR", DJANGO_DEBUG="false", **UNTHROTTLED,
    )
    env.update(settings)
    return env


def manage(folder: Path, *args: str, **settings: str) -> str:
    """``manage.py <args>`` against the server's database and media; its stdout."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=server_env(folder, **settings),
                          check=True, capture_output=True, text=True)
    return done.stdout


@contextmanager
def running_server(folder: Path, **settings: str):
    """Migrate a fresh SQLite file under ``folder``, serve it on a free port; yields the base URL."""
    import redis

    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    env = server_env(folder, **settings)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if call(base, "GET", "/api/v1/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        redis.Redis.from_url(broker).delete("compose", "render", "publish", "recommend")
