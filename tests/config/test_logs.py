"""Tokens and signed URLs never appear in logs: a real server's log is captured and searched."""

import io
import logging
import logging.config
import time

import pytest
from django.conf import settings
from django.core import signing

from config.logfilters import redact
from tests.live import call, listener_token, running_server

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJlLXBhcnQ"
PRESIGNED = ("https://bucket.s3.amazonaws.com/tracks/ab/ab.m4a?X-Amz-Algorithm=AWS4-HMAC-SHA256"
             "&X-Amz-Credential=AKIAEXAMPLE%2F20261202&X-Amz-Signature=0123456789abcdef&X-Amz-Expires=300")


def test_the_redaction_removes_every_kind_of_credential():
    line = redact(f"GET /objects/abc:def:ghi?x=1 Authorization: Bearer {JWT} then {PRESIGNED} and ?token=s3cr3t")
    for secret in (JWT, "abc:def:ghi", "0123456789abcdef", "AKIAEXAMPLE", "s3cr3t"):
        assert secret not in line
    assert "X-Amz-Expires=300" in line  # what is not a credential stays readable


def test_configured_handlers_redact_messages_and_tracebacks():
    stream = io.StringIO()
    config = {**settings.LOGGING, "handlers": {"console": {**settings.LOGGING["handlers"]["console"], "stream": stream}}}
    logging.config.dictConfig(config)
    try:
        log = logging.getLogger("cadenza.test")
        log.warning("signed %s for %s", PRESIGNED, JWT)
        try:
            raise ValueError(f"bad token {JWT}")
        except ValueError:
            log.exception("failed")
    finally:
        logging.config.dictConfig(settings.LOGGING)
    text = stream.getvalue()
    assert "failed" in text and "ValueError" in text
    assert JWT not in text and "0123456789abcdef" not in text


@pytest.mark.slow
def test_a_real_servers_log_holds_no_token_and_no_signed_url(tmp_path):
    media = tmp_path / "media"
    (media / "tracks" / "ab").mkdir(parents=True)
    (media / "tracks" / "ab" / "ab.m4a").write_bytes(b"audio")
    with running_server(tmp_path, LOG_LEVEL="INFO") as base:
        token = listener_token(base, "logs@example.com")
        _, tokens = call(base, "POST", "/api/v1/auth/token", {"email": "logs@example.com", "password": "a-long-passphrase-1"})
        call(base, "GET", "/api/v1/me", token=token)
        call(base, "GET", f"/api/v1/me?access={token}&refresh={tokens['refresh']}", token=token)
        call(base, "POST", "/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]})
        call(base, "GET", "/api/v1/tracks/not-a-uuid", token="not-a-valid-token")
        signed = signing.dumps({"k": "tracks/ab/ab.m4a", "ttl": 300}, salt="cadenza.objects.url", key=settings.SECRET_KEY)
        status, body = call(base, "GET", f"/objects/{signed}")
        deadline = time.monotonic() + 10  # the server writes a file response's line after the client has it
        while "/objects/" not in (tmp_path / "server.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert status == 200 and body["raw"] == b"audio"
    log = (tmp_path / "server.log").read_text()
    assert "/api/v1/me" in log and "/objects/[signed]" in log  # the requests were logged ...
    for secret in (token, tokens["refresh"], tokens["access"], signed):  # ... without their credentials
        assert secret not in log
