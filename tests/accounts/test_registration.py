"""Registration does not tell whether an address has an account (OWASP ASVS), is throttled per
client and per address whatever token is sent, and refuses display names that hide or reorder text."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User

PASSWORD = "a long enough passphrase"


def register(client, **overrides):
    body = {"email": "dora@example.com", "password": PASSWORD} | overrides
    return client.post("/api/v1/auth/register", body, format="json")


def test_registration_of_an_existing_email_answers_like_a_new_one(db, anon_client, alice):
    new = register(anon_client, email="dora@example.com")
    taken = register(anon_client, email="ALICE@example.com")
    assert new.status_code == taken.status_code == 201
    assert set(new.json()) == set(taken.json())
    assert new.json()["detail"] == taken.json()["detail"]
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1
    assert User.objects.get(email="alice@example.com").check_password(PASSWORD) is False  # nothing changed


def test_registration_of_an_existing_email_emails_its_owner_instead(db, anon_client, alice):
    register(anon_client, email="ALICE@example.com")
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "already has one" in mail.outbox[0].body
    mail.outbox.clear()
    register(anon_client, email="dora@example.com")
    assert [m.to for m in mail.outbox] == [["dora@example.com"]]
    assert "Welcome" in mail.outbox[0].subject


def test_a_weak_password_is_refused_whether_or_not_the_email_is_taken(db, anon_client, alice):
    for email in ("alice@example.com", "dora@example.com"):
        response = register(anon_client, email=email, password="password")
        assert response.status_code == 400
        assert "password" in response.json()["error"]["fields"]
    assert not mail.outbox


def test_the_registration_throttle_is_not_bypassed_by_a_bearer_token(db, monkeypatch, alice):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "register": "3/hour"})
    codes = []
    for n, token in enumerate(["not.a.token", "", "x.y.z", "another", "last"]):
        client = APIClient()
        if token:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        codes.append(register(client, email=f"user{n}@example.com").status_code)
    assert codes == [201, 201, 201, 429, 429]


def test_registration_is_throttled_per_email_address(db, anon_client):
    codes = [register(anon_client, email="Dora@Example.com").status_code for _ in range(7)]
    assert codes[:5] == [201] * 5 and codes[5:] == [429, 429]
    assert register(anon_client, email="erin@example.com").status_code == 201


@pytest.mark.parametrize("name", ["evil\u202eelif.exe", "zero\u200bwidth", "joiner\u200d", "bom\ufeff", "bell\x07",
                                  "new\nline", "isolate\u2066x\u2069", "para\u2029graph", " padded"])
def test_display_names_refuse_control_bidi_override_and_zero_width_characters(db, anon_client, name):
    response = register(anon_client, display_name=name)
    assert response.status_code == 400, name
    assert "display_name" in response.json()["error"]["fields"]
    assert not User.objects.filter(email="dora@example.com").exists()


@pytest.mark.parametrize("name", ["Dora", "Zoë Ångström", "李小龍", "محمد", "Ana-María O'Neil"])
def test_display_names_accept_letters_of_any_script(db, anon_client, name):
    assert register(anon_client, display_name=name).status_code == 201
    assert User.objects.get(email="dora@example.com").display_name == name
