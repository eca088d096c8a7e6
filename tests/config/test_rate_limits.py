"""Rate limits an app can read: RateLimit-* headers on throttled routes, Retry-After on every 429,
scopes of their own for token refresh and for polling a job."""

from tests.factories import job_for

PASSWORD = "correct horse battery staple"


def _sign_in(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/token", {"email": email, "password": password}, format="json")


def test_throttled_answers_say_the_limit_what_is_left_and_when_it_resets(alice, alice_client, settings):
    first = alice_client.get("/api/v1/me")
    second = alice_client.get("/api/v1/me")
    limit = int(first["RateLimit-Limit"])
    assert int(first["RateLimit-Remaining"]) == int(second["RateLimit-Remaining"]) + 1
    assert limit > 0 and 0 <= int(second["RateLimit-Reset"]) <= 60


def test_the_tightest_window_is_the_one_reported(db, alice, anon_client):
    response = _sign_in(anon_client, alice.email)
    assert response["RateLimit-Limit"] == "10"  # login's 10/min, not the anonymous 10000/min of the tests
    assert response["RateLimit-Remaining"] == "9"


def test_a_throttled_429_says_when_to_retry(db, alice, anon_client):
    codes = [_sign_in(anon_client, alice.email, f"guess {n}") for n in range(11)]
    last = codes[-1]
    assert last.status_code == 429
    assert 1 <= int(last["Retry-After"]) <= 60
    assert last["RateLimit-Remaining"] == "0"
    assert last.json()["error"]["code"] == "throttled"


def test_token_refresh_has_its_own_scope_not_logins(db, alice, anon_client):
    tokens = _sign_in(anon_client, alice.email).json()
    for n in range(10):  # spend login's 10/min from this address
        _sign_in(anon_client, alice.email, f"guess {n}")
    assert _sign_in(anon_client, alice.email).status_code == 429
    refreshed = anon_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    assert refreshed["RateLimit-Limit"] == "30"


def test_refresh_is_limited_per_listener_so_one_address_serves_many_phones(db, alice, bob, anon_client, monkeypatch):
    from accounts.api.throttles import RefreshThrottle

    monkeypatch.setattr(RefreshThrottle, "rate", "2/min", raising=False)
    alices, bobs = _sign_in(anon_client, alice.email).json(), _sign_in(anon_client, bob.email).json()
    for _ in range(2):
        alices = anon_client.post("/api/v1/auth/token/refresh", {"refresh": alices["refresh"]}, format="json").json()
    spent = anon_client.post("/api/v1/auth/token/refresh", {"refresh": alices["refresh"]}, format="json")
    assert spent.status_code == 429 and int(spent["Retry-After"]) >= 1
    assert anon_client.post("/api/v1/auth/token/refresh", {"refresh": bobs["refresh"]}, format="json").status_code == 200


def test_polling_a_job_has_its_own_scope(alice, alice_client):
    job = job_for(alice)
    polled = alice_client.get(f"/api/v1/generations/{job.id}")
    listed = alice_client.get("/api/v1/generations")
    assert polled.status_code == listed.status_code == 200
    assert polled["RateLimit-Limit"] == "120"
    assert listed["RateLimit-Limit"] == "60"
