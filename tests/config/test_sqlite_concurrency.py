"""The embedded default takes concurrent writers: a real server on a SQLite file, 8 writers × 15
rounds of PATCH /me/preferences and POST /generations for one listener → 0 server errors, the
quota exact, every preference write a version of its own.

Run alone to print the figures: ``pytest tests/config/test_sqlite_concurrency.py -s`` (JSON line).
Tasks go to a Redis database no worker reads: the drill is about the database, not composing.
"""

import json
import threading
from collections import Counter

import pytest

from tests.live import call, running_server

WRITERS, ROUNDS, QUOTA = 8, 15, 20

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    with running_server(tmp_path, CADENZA_GENERATION_QUOTA_PER_DAY=str(QUOTA)) as base:
        yield base


def test_concurrent_writers_on_the_embedded_sqlite_default_get_no_server_errors(server):
    status, _ = call(server, "POST", "/api/v1/auth/register", {"email": "drill@example.com", "password": "a-long-passphrase-1"})
    assert status == 201
    status, tokens = call(server, "POST", "/api/v1/auth/token", {"email": "drill@example.com", "password": "a-long-passphrase-1"})
    token = tokens["access"]
    codes: Counter[str] = Counter()
    barrier = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        barrier.wait()
        for round_ in range(ROUNDS):
            energy = (number * ROUNDS + round_ + 1) / (WRITERS * ROUNDS + 1)  # every write a new value
            patch, _ = call(server, "PATCH", "/api/v1/me/preferences", {"energy": energy}, token)
            post, _ = call(server, "POST", "/api/v1/generations", {"style": "folk", "length_s": 30}, token)
            codes[f"PATCH {patch}"] += 1
            codes[f"POST {post}"] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    _, generations = call(server, "GET", "/api/v1/generations?page_size=200", token=token)
    _, export = call(server, "GET", "/api/v1/me/export", token=token)
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
