"""A harness for fault drills: real Celery worker processes on Redis, the test's PostgreSQL
database and the loopback S3 API, plus the means to kill them (SIGKILL) and to break S3."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def worker_env(*, database_url: str, broker_url: str, s3_endpoint: str, bucket: str, checkpoint: Path,
               certs, licence_key_pem: str, **extra: str) -> dict[str, str]:
    """The environment a production worker would have, pointed at the test's services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        AWS_STORAGE_BUCKET_NAME=bucket,
        AWS_S3_ENDPOINT_URL=s3_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        CADENZA_CHECKPOINT=str(checkpoint),
        CADENZA_COMPOSE_OPTIONS=json.dumps({"n_candidates": 1}),
        CADENZA_C2PA_CERT=str(certs.chain),
        CADENZA_C2PA_KEY=str(certs.key),
        CADENZA_LICENCE_SIGNING_KEY=licence_key_pem,
        CADENZA_JOB_LEASE_SECONDS="15",
        CADENZA_RETRY_BASE_SECONDS="0.2",
        CELERY_VISIBILITY_TIMEOUT="20",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


class Worker:
    """One `celery worker` (prefork, N processes) consuming the compose, render and publish queues."""

    def __init__(self, env: dict[str, str], *, concurrency: int = 2, log: Path, stage_pause_s: float = 0.0):
        self.env, self.concurrency, self.log, self.stage_pause_s = env, concurrency, log, stage_pause_s
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        name = f"drill-{uuid.uuid4().hex[:6]}@%h"
        args = ["-Q", "compose,render,publish", "-c", str(self.concurrency), "-P", "prefork", "-n", name,
                "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"]
        # a pause inside every stage (so a drill can kill a worker there) lives in the drill's worker only
        command = ([sys.executable, "-m", "tests.generation.drill_worker", str(self.stage_pause_s), "--", *args]
                   if self.stage_pause_s else [CELERY, "-A", "config", "worker", *args])
        self.process = subprocess.Popen(
            command,
            cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def children(self) -> list[int]:
        """The pool processes (the ones that run tasks)."""
        if self.process is None:
            return []
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            return []

    def kill(self, pid: int) -> bool:
        """SIGKILL one pool process (only ever one of this worker's own)."""
        if pid not in self.children():
            return False
        try:
            os.kill(pid, signal.SIGKILL)
            return True
        except ProcessLookupError:
            return False

    def kill_children(self) -> int:
        """SIGKILL every pool process: whatever they were doing dies mid-stage."""
        killed = 0
        for pid in self.children():
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        return killed

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def running(env: dict[str, str], *, log: Path, concurrency: int = 2, stage_pause_s: float = 0.0):
    worker = Worker(env, concurrency=concurrency, log=log, stage_pause_s=stage_pause_s).start()
    try:
        yield worker
    finally:
        worker.stop()


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run a management command the way an operator (or Celery beat) would, in its own process."""
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


# ------------------------------------------------------------------------------------------------
# A fault-injecting proxy in front of the S3 API: forwards, or answers 503, or hangs.
# ------------------------------------------------------------------------------------------------
class FaultyS3Proxy:
    """HTTP proxy to ``upstream``; ``mode`` is "pass", "503" (every request), "403" (AccessDenied) or "hang"."""

    def __init__(self, upstream: str):
        self.upstream = upstream.removeprefix("http://")
        self.mode = "pass"
        self.failed_requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.mode == "403":
                    proxy.failed_requests += 1
                    error = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                    self.send_response(403)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(error)) if self.command != "HEAD" else "0")
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(error)
                    return
                if proxy.mode != "pass":
                    proxy.failed_requests += 1
                    if proxy.mode == "hang":
                        time.sleep(40)
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                host, port = proxy.upstream.split(":")
                upstream = http.client.HTTPConnection(host, int(port), timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = proxy.upstream
                upstream.request(self.command, self.path, body=body, headers=headers)
                reply = upstream.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                head = self.command == "HEAD"
                for key, value in reply.getheaders():
                    if key.lower() not in {"transfer-encoding", "connection"} and (head or key.lower() != "content-length"):
                        self.send_header(key, value)
                if not head:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not head:
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
