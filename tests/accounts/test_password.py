"""Changing and resetting a password: the old one stops working, so does every refresh token."""

import re

from django.core import mail

from accounts.models import User

OLD, NEW = "correct horse battery staple", "a brand new passphrase 7"


def _sign_in(client, email, password):
    return client.post("/api/v1/auth/token", {"email": email, "password": password}, format="json")


def _refresh(client, refresh):
    return client.post("/api/v1/auth/token/refresh", {"refresh": refresh}, format="json")


def _code_from_mail() -> str:
    assert len(mail.outbox) == 1
    return re.search(r"reset code: (\S+)", mail.outbox[0].body).group(1)


def test_it_changes_the_password_and_revokes_every_refresh_token(alice, anon_client, client_for):
    phone = _sign_in(anon_client, alice.email, OLD).json()
    laptop = _sign_in(anon_client, alice.email, OLD).json()
    rotated = _refresh(anon_client, laptop["refresh"]).json()  # a rotated token is revoked too
    response = client_for(alice).post("/api/v1/me/password", {"current_password": OLD, "new_password": NEW},
                                      format="json")
    assert response.status_code == 204
    assert _refresh(anon_client, phone["refresh"]).status_code == 401
    assert _refresh(anon_client, rotated["refresh"]).status_code == 401
    assert _sign_in(anon_client, alice.email, OLD).status_code == 401
    assert _sign_in(anon_client, alice.email, NEW).status_code == 200


def test_it_refuses_a_wrong_current_password_naming_it(alice, alice_client):
    response = alice_client.post("/api/v1/me/password", {"current_password": "not it at all", "new_password": NEW},
                                 format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["current_password"]
    alice.refresh_from_db()
    assert alice.check_password(OLD)


def test_it_refuses_a_weak_new_password_naming_it(alice_client):
    response = alice_client.post("/api/v1/me/password", {"current_password": OLD, "new_password": "12345678"},
                                 format="json")
    assert response.status_code == 400
    assert "new_password" in response.json()["error"]["fields"]


def test_a_reset_answers_the_same_for_an_unknown_address_and_sends_nothing(db, alice, anon_client):
    known = anon_client.post("/api/v1/auth/password-reset", {"email": alice.email}, format="json")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [alice.email]
    unknown = anon_client.post("/api/v1/auth/password-reset", {"email": "nobody@example.com"}, format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len(mail.outbox) == 1


def test_a_reset_code_sets_a_new_password_once_and_revokes_refresh_tokens(alice, anon_client):
    session = _sign_in(anon_client, alice.email, OLD).json()
    anon_client.post("/api/v1/auth/password-reset", {"email": alice.email.upper()}, format="json")
    code = _code_from_mail()
    assert code.split(".")[0] == alice.public_id.hex and alice.email not in code  # opaque ids only
    confirm = {"token": code, "new_password": NEW}
    assert anon_client.post("/api/v1/auth/password-reset/confirm", confirm, format="json").status_code == 204
    assert _refresh(anon_client, session["refresh"]).status_code == 401
    assert _sign_in(anon_client, alice.email, NEW).status_code == 200
    again = anon_client.post("/api/v1/auth/password-reset/confirm", confirm | {"new_password": "yet another one 9"},
                             format="json")
    assert again.status_code == 400
    assert list(again.json()["error"]["fields"]) == ["token"]


def test_a_reset_code_expires(alice, anon_client, settings, monkeypatch):
    from django.contrib.auth.tokens import default_token_generator

    anon_client.post("/api/v1/auth/password-reset", {"email": alice.email}, format="json")
    code = _code_from_mail()
    later = default_token_generator._now() + __import__("datetime").timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 5)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)
    response = anon_client.post("/api/v1/auth/password-reset/confirm", {"token": code, "new_password": NEW},
                                format="json")
    assert response.status_code == 400 and "token" in response.json()["error"]["fields"]
    assert User.objects.get(pk=alice.pk).check_password(OLD)


def test_a_forged_or_malformed_code_is_refused_naming_the_field(db, alice, anon_client):
    for token in ("nonsense", f"{alice.public_id.hex}.abc-123", "0" * 32 + ".x", "."):
        response = anon_client.post("/api/v1/auth/password-reset/confirm", {"token": token, "new_password": NEW},
                                    format="json")
        assert response.status_code == 400, token
        assert list(response.json()["error"]["fields"]) == ["token"], token


def test_a_weak_password_with_a_good_code_is_refused_and_the_code_still_works(alice, anon_client):
    anon_client.post("/api/v1/auth/password-reset", {"email": alice.email}, format="json")
    code = _code_from_mail()
    weak = anon_client.post("/api/v1/auth/password-reset/confirm", {"token": code, "new_password": "password"},
                            format="json")
    assert weak.status_code == 400 and "new_password" in weak.json()["error"]["fields"]
    good = anon_client.post("/api/v1/auth/password-reset/confirm", {"token": code, "new_password": NEW}, format="json")
    assert good.status_code == 204


def test_reset_requests_are_throttled_per_address(db, alice, anon_client, settings):
    codes = [anon_client.post("/api/v1/auth/password-reset", {"email": alice.email}, format="json").status_code
             for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    assert len(mail.outbox) == 3
