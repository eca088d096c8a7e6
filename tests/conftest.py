"""Shared fixtures: alice and bob are listeners, charlie is staff; each has an API client.

For review: rita is a reviewer, vera view-only staff, sam a superuser; ``browser`` is headless Chromium.
"""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory


def _client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com")


@pytest.fixture
def charlie(db):
    return UserFactory(email="charlie@example.com", is_staff=True)


# Review: rita decides (the reviewer group), vera is staff who may only look, sam is a superuser.
@pytest.fixture
def rita(db):
    from tests.generation.reviewing import reviewer

    return reviewer("rita@example.com")


@pytest.fixture
def vera(db):
    from django.contrib.auth.models import Permission

    user = UserFactory(email="vera@example.com", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_track", content_type__app_label="generation"))
    return user


@pytest.fixture
def sam(db):
    return UserFactory(email="sam@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def licence_key(settings, tmp_path):
    """A fresh licence signing key (approvals sign catalog licences)."""
    from generation.services import licences

    settings.CADENZA_DEV_LICENCE_KEY_PATH = tmp_path / "licence-key.pem"
    licences.signing_key.cache_clear()
    yield settings.CADENZA_DEV_LICENCE_KEY_PATH
    licences.signing_key.cache_clear()


@pytest.fixture
def browser():
    """Headless Chromium (Debian's chromium + chromedriver) through Selenium; audio may autoplay."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,1000", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.implicitly_wait(10)
    yield driver
    driver.quit()


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def alice_client(alice) -> APIClient:
    return _client_for(alice)


@pytest.fixture
def bob_client(bob) -> APIClient:
    return _client_for(bob)


@pytest.fixture
def charlie_client(charlie) -> APIClient:
    return _client_for(charlie)


@pytest.fixture
def client_for():
    return _client_for


# ------------------------------------------------------------------------------------------------
# S3: moto's server over HTTP on loopback (boto3 is never patched)
# ------------------------------------------------------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_settings(endpoint: str, bucket: str) -> dict:
    return {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "signature_version": "s3v4",
                "addressing_style": "path",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": True,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def s3(s3_endpoint, settings):
    """Django's default storage pointed at a fresh private bucket on the loopback S3 API."""
    import uuid

    import boto3

    bucket = f"cadenza-test-{uuid.uuid4().hex[:10]}"
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket)
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.STORAGES = s3_settings(s3_endpoint, bucket)
    yield client, bucket


@pytest.fixture
def local_media(tmp_path, settings):
    """Django's default storage pointed at an empty local folder (the embedded default)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": "/media/"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return tmp_path / "media"
