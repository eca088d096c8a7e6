"""The schema as a contract: a client generated from /api/schema/ by openapi-python-client drives
the app flow with its typed functions against a live server (the real pipeline on the debug
model, objects on the S3 API on loopback).

Register, sign in, preferences GET → PUT (the body GET gave), compose, poll, the track, a Range
download through its signed URL (206), events, the playlist, refresh, logout; and every error path
an app meets — duplicate registration, a wrong password, invalid preferences, an unknown track,
refresh after logout — answers a status the schema documents, parsed into a typed model.

Counted and printed as one JSON line (run with ``-s``): UnexpectedStatus raised (0), bodies the
client could not type (0), and the operations whose schema documents every status they returned.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.generation.conftest import debug_checkpoint, dev_certs, pipeline_settings  # noqa: F401 - fixtures

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "cadenza_api_client"
PASSWORD = "a long enough passphrase 4"


def _generate_client(base: str, folder: Path):
    """Fetch the schema the server serves and generate a client package from it; import it."""
    import httpx

    schema = httpx.get(f"{base}/api/schema/?format=json", timeout=60)
    assert schema.status_code == 200
    (folder / "schema.json").write_bytes(schema.content)
    (folder / "config.yaml").write_text("post_hooks: []\n")  # no formatter run over the output
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(folder / "schema.json"), "--meta", "none",
         "--output-path", str(folder / "packages" / PACKAGE), "--config", str(folder / "config.yaml")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    sys.path.insert(0, str(folder / "packages"))
    importlib.invalidate_caches()
    return json.loads(schema.content), importlib.import_module(PACKAGE)


class Recorder:
    """Calls the generated functions, counting what a contract must not let happen."""

    def __init__(self, client_package, schema: dict):
        self.errors = importlib.import_module(f"{PACKAGE}.errors")
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.api = importlib.import_module(f"{PACKAGE}.api")
        self.documented = {  # by the module name the generator gives each operation
            re.sub(r"\W+", "_", operation["operationId"]).strip("_"): set(operation["responses"])
            for methods in schema["paths"].values() for operation in methods.values() if isinstance(operation, dict)
        }
        self.seen: dict[str, set[str]] = defaultdict(set)
        self.unexpected: list[tuple[str, int]] = []
        self.untyped: list[tuple[str, int, str]] = []

    def function(self, tag: str, operation: str):
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")

    def call(self, tag: str, operation: str, *args, expect: int, **kwargs):
        """``operation``'s sync_detailed; asserts the status and that the body parsed into a model."""
        module = self.function(tag, operation)
        try:
            response = module.sync_detailed(*args, **kwargs)
        except self.errors.UnexpectedStatus as unexpected:
            self.unexpected.append((operation, unexpected.status_code))
            raise AssertionError(f"{operation}: undocumented {unexpected.status_code}: "
                                 f"{unexpected.content[:300]!r}") from None
        status = int(response.status_code)
        self.seen[operation].add(str(status))
        if response.content and not self._typed(response.parsed):
            self.untyped.append((operation, status, type(response.parsed).__name__))
        assert status == expect, (operation, status, response.content[:500])
        return response

    def _typed(self, parsed) -> bool:
        """A model class of the generated package (an attrs class with from_dict/to_dict)."""
        return parsed is not None and type(parsed).__module__.startswith(f"{PACKAGE}.models.") and hasattr(parsed, "to_dict")

    def figures(self) -> dict:
        exercised = sorted(self.seen)
        fully = [op for op in exercised if self.seen[op] <= self.documented[op]]
        return {
            "drill": "generated_client", "generator": "openapi-python-client",
            "operations_in_schema": len(self.documented), "operations_exercised": len(exercised),
            "statuses_seen": sum(len(codes) for codes in self.seen.values()),
            "operations_documenting_every_status_seen": len(fully),
            "unexpected_status": len(self.unexpected), "untyped_bodies": len(self.untyped),
        }


@pytest.mark.skipif(not GENERATOR.exists(), reason="openapi-python-client is not installed (pip install -e '.[dev]')")
def test_a_generated_client_drives_the_app_flow_with_typed_answers(live_server, s3, pipeline_settings, tmp_path):  # noqa: F811
    import httpx

    schema, package = _generate_client(live_server.url, tmp_path)
    rec = Recorder(package, schema)
    m = rec.models
    anonymous = package.Client(base_url=live_server.url, raise_on_unexpected_status=True, timeout=httpx.Timeout(600))

    # an account, and the error paths of signing up and in
    email = "mo@example.com"
    registered = rec.call("auth", "auth_register_create", client=anonymous, expect=201,
                          body=m.RegisterInputRequest(email=email, password=PASSWORD, display_name="Mo")).parsed
    assert isinstance(registered, m.RegisteredOutput) and registered.email == email
    again = rec.call("auth", "auth_register_create", client=anonymous, expect=201,
                     body=m.RegisterInputRequest(email=email, password=PASSWORD)).parsed
    assert isinstance(again, m.RegisteredOutput)  # a taken address answers like a new one
    weak = rec.call("auth", "auth_register_create", client=anonymous, expect=400,
                    body=m.RegisterInputRequest(email="weak@example.com", password="password")).parsed
    assert isinstance(weak, m.Error) and "password" in weak.error.fields.to_dict()
    wrong = rec.call("auth", "auth_token_create", client=anonymous, expect=401,
                     body=m.TokenInputRequest(email=email, password="not the password")).parsed
    assert isinstance(wrong, m.Error) and wrong.error.code
    pair = rec.call("auth", "auth_token_create", client=anonymous, expect=200,
                    body=m.TokenInputRequest(email=email, password=PASSWORD)).parsed
    assert isinstance(pair, m.TokenPairOutput) and pair.access and pair.refresh
    client = package.AuthenticatedClient(base_url=live_server.url, token=pair.access, raise_on_unexpected_status=True,
                                         timeout=httpx.Timeout(600))

    me = rec.call("me", "me_partial_update", client=client, expect=200,
                  body=m.PatchedMeInputRequest(display_name="Mo Brown")).parsed
    assert me.display_name == "Mo Brown"
    assert rec.call("me", "me_quota_retrieve", client=client, expect=200).parsed.remaining > 0

    # preferences: PUT takes the very body GET gave; an invalid one is a typed 400 naming the field
    got = rec.call("me", "me_preferences_retrieve", client=client, expect=200)
    body = m.PreferencesInputRequest.from_dict(got.parsed.to_dict())
    body.styles, body.energy = [m.StyleEnum("piano")], 0.4
    put = rec.call("me", "me_preferences_update", client=client, body=body, expect=200).parsed
    assert put.version == got.parsed.version + 1 and put.energy == 0.4
    invalid = m.PreferencesInputRequest.from_dict(put.to_dict() | {"tempo_min": 200, "tempo_max": 100})
    refused = rec.call("me", "me_preferences_update", client=client, body=invalid, expect=400).parsed
    assert isinstance(refused, m.Error) and "tempo_min" in refused.error.fields.to_dict()
    tag = rec.call("me", "me_preferences_retrieve", client=client, expect=200).headers["ETag"]
    rec.call("me", "me_preferences_retrieve", client=client, if_none_match=tag, expect=304)
    assert rec.call("styles", "styles_retrieve", client=anonymous, expect=200).parsed.results

    # compose, poll, the track
    job = rec.call("generations", "generations_create", client=client, expect=202,
                   body=m.GenerationInputRequest(style=m.StyleEnum("piano"), length_s=30, seed=11)).parsed
    deadline = time.monotonic() + 600
    while job.status.value not in ("published", "failed", "rejected") and time.monotonic() < deadline:
        time.sleep(1)
        job = rec.call("generations", "generations_retrieve", job.id, client=client, expect=200).parsed
    job = rec.call("generations", "generations_retrieve", job.id, client=client, expect=200).parsed
    assert job.status.value == "published", job.error
    track_response = rec.call("tracks", "tracks_retrieve", job.track.id, client=client, expect=200)
    track = track_response.parsed
    assert isinstance(track.measured, m.MeasuredOutput) and track.measured.tempo
    assert isinstance(track.licence, m.LicenceSummaryOutput) and isinstance(track.links, m.TrackLinksOutput)
    rec.call("tracks", "tracks_retrieve", job.track.id, client=client, if_none_match=track_response.headers["ETag"],
             expect=304)
    rendition = track.renditions[0]
    ranged = httpx.get(rendition.url, headers={"Range": "bytes=0-1023"}, timeout=60)
    assert ranged.status_code == 206 and len(ranged.content) == 1024
    assert ranged.headers["Content-Range"] == f"bytes 0-1023/{rendition.size}"
    provenance = rec.call("tracks", "tracks_provenance_retrieve", track.id, client=client, expect=200).parsed
    assert isinstance(provenance, m.ProvenanceOutput) and str(provenance.track_id) == str(track.id)
    licence = rec.call("tracks", "tracks_licence_retrieve", track.id, client=client, expect=200).parsed
    certificate = m.LicenceVerifyInputRequestCertificate.from_dict(licence.certificate.to_dict())
    verified = rec.call("licences", "licences_verify_create", client=anonymous, expect=200,
                        body=m.LicenceVerifyInputRequest(certificate=certificate)).parsed
    assert verified.valid, verified.reason
    unknown = rec.call("tracks", "tracks_retrieve", uuid.uuid4(), client=client, expect=404).parsed
    assert isinstance(unknown, m.Error) and unknown.error.code == "not_found"
    rec.call("tracks", "tracks_list", client=client, expect=200)
    rec.call("generations", "generations_list", client=client, expect=200)

    # listening, the playlist
    now = datetime.now(tz=UTC)
    events = [m.EventInputRequest(client_event_id=uuid.uuid4(), track=track.id, kind=m.EventKindEnum(kind),
                                  position_ms=position, occurred_at=now)
              for kind, position in (("play", 0), ("skip", 4200))]
    batch = rec.call("me", "me_events_create", client=client, expect=200,
                     body=m.EventBatchInputRequest(events=events)).parsed
    assert batch.accepted == 2 and all(isinstance(r, m.EventResultOutput) for r in batch.results)
    assert [r.status.value for r in batch.results] == ["accepted", "accepted"]
    assert len(rec.call("me", "me_events_list", client=client, expect=200).parsed.results) == 2
    playlist = rec.call("me", "me_playlist_retrieve", client=client, expect=200).parsed
    assert isinstance(playlist, m.PlaylistOutput)
    rec.call("me", "me_taste_retrieve", client=client, expect=200)

    # refresh, logout, and refresh after logout
    renewed = rec.call("auth", "auth_token_refresh_create", client=anonymous, expect=200,
                       body=m.TokenRefreshInputRequest(refresh=pair.refresh)).parsed
    assert isinstance(renewed, m.TokenPairOutput)
    rec.call("auth", "auth_logout_create", client=client, expect=204, body=m.LogoutInputRequest(refresh=renewed.refresh))
    after = rec.call("auth", "auth_token_refresh_create", client=anonymous, expect=401,
                     body=m.TokenRefreshInputRequest(refresh=renewed.refresh)).parsed
    assert isinstance(after, m.Error)

    # the password: a reset request, a bad reset code, a wrong current password
    rec.call("auth", "auth_password_reset_create", client=anonymous, expect=202,
             body=m.PasswordResetInputRequest(email=email))
    rec.call("auth", "auth_password_reset_confirm_create", client=anonymous, expect=400,
             body=m.PasswordResetConfirmInputRequest(token="not-a-code", new_password="another passphrase 5"))
    rec.call("me", "me_password_create", client=client, expect=400,
             body=m.PasswordChangeInputRequest(current_password="not it", new_password="another passphrase 5"))
    for tag_, operation in (("health", "health_retrieve"), ("well_known", "licence_key_retrieve")):
        rec.call(tag_, operation, client=anonymous, expect=200)
    rec.call("me", "me_export_retrieve", client=client, expect=200)

    figures = rec.figures()
    print(json.dumps(figures))
    assert rec.unexpected == [] and rec.untyped == [], (rec.unexpected, rec.untyped)
    assert figures["operations_documenting_every_status_seen"] == figures["operations_exercised"]
    shutil.rmtree(tmp_path / "packages", ignore_errors=True)
    sys.path.remove(str(tmp_path / "packages"))
