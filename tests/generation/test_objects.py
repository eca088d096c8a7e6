"""Object storage on S3 (moto's server over HTTP) and on the local default: same code, same rules."""

import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest

from generation import objects

AUDIO = bytes(range(256)) * 64  # 16 KiB


@pytest.fixture(params=["s3", "local"])
def store(request):
    request.getfixturevalue("s3" if request.param == "s3" else "local_media")
    return request.param


def test_keys_are_content_addressed_and_carry_no_user_data(store):
    stored = objects.put_object(AUDIO, prefix="tracks", extension="flac", content_type="audio/flac",
                                metadata={"provenance-id": "p-1", "licence-id": "LicenseRef-Cadenza-Personal-1.0"})
    assert stored.key == f"tracks/{stored.sha256[:2]}/{stored.sha256}.flac"
    assert objects.read_object(stored.key) == AUDIO


def test_every_object_carries_sha_provenance_and_licence_metadata(store):
    stored = objects.put_object(AUDIO, prefix="tracks", extension="flac", content_type="audio/flac",
                                metadata={"provenance-id": "p-1", "licence-id": "LicenseRef-Cadenza-Personal-1.0"})
    meta = objects.object_metadata(stored.key)
    assert meta == {"sha256": stored.sha256, "provenance-id": "p-1", "licence-id": "LicenseRef-Cadenza-Personal-1.0"}


def test_a_second_put_of_the_same_bytes_writes_nothing(store):
    first = objects.put_object(AUDIO, prefix="tracks", extension="flac", content_type="audio/flac", metadata={"provenance-id": "a"})
    again = objects.put_object(AUDIO, prefix="tracks", extension="flac", content_type="audio/flac", metadata={"provenance-id": "b"})
    assert first.key == again.key
    assert objects.object_metadata(first.key)["provenance-id"] == "a"
    assert [key for key, _ in objects.list_objects("tracks/")] == [first.key]


def test_delete_removes_the_object(store):
    stored = objects.put_object(AUDIO, prefix="work", extension="flac", content_type="audio/flac", metadata={})
    objects.delete_object(stored.key)
    assert not objects.object_exists(stored.key)
    assert list(objects.list_objects("work/")) == []


def test_s3_signed_urls_are_sigv4_short_lived_and_honour_range(s3):
    stored = objects.put_object(AUDIO, prefix="tracks", extension="mp3", content_type="audio/mpeg", metadata={})
    url = objects.signed_url(stored.key)
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    request = urllib.request.Request(url, headers={"Range": "bytes=0-1023"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes 0-1023/{len(AUDIO)}"
        assert response.read() == AUDIO[:1024]


def test_s3_bucket_is_private(s3):
    stored = objects.put_object(AUDIO, prefix="tracks", extension="mp3", content_type="audio/mpeg", metadata={})
    client, bucket = s3
    grants = client.get_object_acl(Bucket=bucket, Key=stored.key)["Grants"]
    assert all("AllUsers" not in str(grant["Grantee"]) for grant in grants)


def test_local_signed_urls_expire_and_honour_range(local_media, client, settings):
    stored = objects.put_object(AUDIO, prefix="tracks", extension="mp3", content_type="audio/mpeg", metadata={})
    url = objects.signed_url(stored.key)
    response = client.get(url, HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(AUDIO)}"
    assert response.content == AUDIO[100:200]
    forged = url[:-3] + ("abc" if not url.endswith("abc") else "xyz")
    assert client.get(forged).status_code == 403


def test_signed_urls_in_a_batch_are_the_same_grants_as_one_by_one(local_media):
    from generation import objects

    keys = [f"tracks/ab/{n:064d}.m4a" for n in range(5)]
    batch = objects.signed_urls(keys)
    assert [objects.unsign_local_url(url.rsplit("/", 1)[1]) for url in batch] == keys
    assert [url.rsplit("/", 1)[0] for url in batch] == [objects.signed_url(k).rsplit("/", 1)[0] for k in keys]


def test_local_signed_urls_are_relative_so_they_work_on_any_host(local_media, settings):
    stored = objects.put_object(AUDIO, prefix="tracks", extension="mp3", content_type="audio/mpeg", metadata={})
    assert settings.SITE_URL == ""  # the default: no origin is guessed
    assert objects.signed_url(stored.key).startswith("/objects/")
    assert objects.signed_urls([stored.key])[0].startswith("/objects/")


def test_a_proxy_may_put_its_origin_in_front_of_signed_urls(local_media, settings):
    settings.SITE_URL = "https://cadenza.example/"
    stored = objects.put_object(AUDIO, prefix="tracks", extension="mp3", content_type="audio/mpeg", metadata={})
    assert objects.signed_url(stored.key).startswith("https://cadenza.example/objects/")
    assert objects.signed_urls([stored.key])[0].startswith("https://cadenza.example/objects/")


def test_a_local_signed_object_may_be_cached_privately_no_longer_than_its_url_lives(local_media, client, settings):
    settings.SITE_URL = ""
    stored = objects.put_object(AUDIO, prefix="tracks", extension="mp3", content_type="audio/mpeg", metadata={})
    url = objects.signed_url(stored.key, ttl=120)
    for response in (client.get(url), client.get(url, HTTP_RANGE="bytes=0-99")):
        assert response.status_code in (200, 206)
        directives = dict(part.strip().partition("=")[::2] for part in response["Cache-Control"].split(","))
        assert "private" in directives
        assert 110 <= int(directives["max-age"]) <= 120


def test_batch_tokens_are_exactly_the_tokens_django_signing_makes(local_media, monkeypatch):
    from django.core import signing

    monkeypatch.setattr(signing.time, "time", lambda: 1_790_000_000.4)
    payloads = [{"k": f"tracks/{n:02x}/ü-{n}.flac", "ttl": 300 + n} for n in range(4)]
    payloads += [{"k": f"tracks/{n:02x}/{'ab' * 32}.m4a", "ttl": 300} for n in range(3)]  # content-addressed
    payloads += [{"k": 'tracks/a"b\\c.m4a', "ttl": 60}]
    assert objects._local_tokens(payloads) == [signing.dumps(p, salt=objects.URL_SALT) for p in payloads]
