"""Registration, tokens, logout and throttled login."""


from accounts.models import User


def register(client, **overrides):
    body = {"email": "dora@example.com", "password": "a long enough passphrase"} | overrides
    return client.post("/api/v1/auth/register", body, format="json")


def test_it_registers_a_listener_with_default_preferences(db, anon_client):
    response = register(anon_client, display_name="Dora")
    assert response.status_code == 201, response.json()
    user = User.objects.get(email="dora@example.com")
    assert user.display_name == "Dora"
    assert user.preference_versions.count() == 1
    assert "password" not in response.json()




def test_it_refuses_a_weak_password_naming_the_field(db, anon_client):
    response = register(anon_client, password="password")
    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]


def test_it_issues_tokens_that_open_me(db, anon_client):
    register(anon_client)
    tokens = anon_client.post(
        "/api/v1/auth/token", {"email": "dora@example.com", "password": "a long enough passphrase"}, format="json"
    ).json()
    assert set(tokens) == {"access", "refresh"}
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert anon_client.get("/api/v1/me").json()["email"] == "dora@example.com"


def test_it_stops_a_refresh_token_after_logout(db, anon_client):
    register(anon_client)
    tokens = anon_client.post(
        "/api/v1/auth/token", {"email": "dora@example.com", "password": "a long enough passphrase"}, format="json"
    ).json()
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert anon_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    refreshed = anon_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 401


def test_it_refuses_to_log_out_someone_elses_token(db, alice_client, bob):
    from rest_framework_simplejwt.tokens import RefreshToken

    response = alice_client.post("/api/v1/auth/logout", {"refresh": str(RefreshToken.for_user(bob))}, format="json")
    assert response.status_code == 400
    assert "refresh" in response.json()["error"]["fields"]


def test_it_throttles_password_guessing(db, anon_client, alice):
    codes = [
        anon_client.post("/api/v1/auth/token", {"email": alice.email, "password": f"guess {n}"}, format="json").status_code
        for n in range(12)
    ]
    assert codes[:10] == [401] * 10
    assert codes[-1] == 429
