"""Storage errors classified (regression (c): every botocore ClientError, 403 and NoSuchKey
included, was retried as storage_unavailable): missing objects and permission errors fail the
job at once with their own codes; 5xx, throttling and timeouts are retried with backoff."""

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
)

from generation import storage_errors
from generation.models import GenerationJob, JobStatus
from generation.services import jobs
from tests.factories import job_for
from tests.generation import workers

pytestmark = pytest.mark.django_db


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")


@pytest.mark.parametrize(
    ("error", "code", "transient"),
    [
        (_client_error("NoSuchKey", 404), "storage_missing", False),
        (_client_error("NoSuchBucket", 404), "storage_missing", False),
        (_client_error("404", 404), "storage_missing", False),
        (_client_error("AccessDenied", 403), "storage_forbidden", False),
        (_client_error("InvalidAccessKeyId", 403), "storage_forbidden", False),
        (_client_error("SignatureDoesNotMatch", 403), "storage_forbidden", False),
        (NoCredentialsError(), "storage_forbidden", False),
        (FileNotFoundError("gone"), "storage_missing", False),
        (PermissionError("no"), "storage_forbidden", False),
        (_client_error("SlowDown", 503), "storage_unavailable", True),
        (_client_error("ServiceUnavailable", 503), "storage_unavailable", True),
        (_client_error("InternalError", 500), "storage_unavailable", True),
        (_client_error("TooManyRequests", 429), "storage_unavailable", True),
        (_client_error("RequestTimeout", 400), "storage_unavailable", True),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "storage_unavailable", True),
        (ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"), "storage_unavailable", True),
        (TimeoutError(), "storage_unavailable", True),
        (ConnectionResetError(), "storage_unavailable", True),
    ],
)
def test_it_classifies_storage_errors(error, code, transient):
    assert storage_errors.classify(error) == storage_errors.StorageFailure(code, transient)


def test_it_leaves_other_errors_alone():
    assert storage_errors.classify(ValueError("bad tempo")) is None


def _job_waiting_to_arrange(user, midi_key: str) -> GenerationJob:
    job = job_for(user, status=JobStatus.ARRANGING,
                  work={"request": {"style": "piano"}, "composition": {"midi_key": midi_key}})
    return job


def test_a_missing_object_fails_the_job_at_once_with_storage_missing(s3, alice):
    job = _job_waiting_to_arrange(alice, "midi/00/not-there.mid")
    assert jobs.job_run_phase(job_id=str(job.id), phase="render", owner="task-1") == JobStatus.FAILED
    job.refresh_from_db()
    assert (job.status, job.error_code, job.attempts) == (JobStatus.FAILED, "storage_missing", 1)


def test_a_missing_local_file_fails_the_job_at_once_with_storage_missing(local_media, alice):
    job = _job_waiting_to_arrange(alice, "midi/00/not-there.mid")
    assert jobs.job_run_phase(job_id=str(job.id), phase="render", owner="task-1") == JobStatus.FAILED
    assert GenerationJob.objects.get(id=job.id).error_code == "storage_missing"


@pytest.fixture
def proxied_s3(s3, settings):
    client, bucket = s3
    proxy = workers.FaultyS3Proxy(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])
    settings.STORAGES = {**settings.STORAGES, "default": {**settings.STORAGES["default"], "OPTIONS": {
        **settings.STORAGES["default"]["OPTIONS"], "endpoint_url": proxy.url}}}
    client.put_object(Bucket=bucket, Key="midi/00/there.mid", Body=b"MThd")
    yield proxy
    proxy.close()


def test_a_permission_error_fails_the_job_at_once_with_storage_forbidden(proxied_s3, alice):
    proxied_s3.mode = "403"
    job = _job_waiting_to_arrange(alice, "midi/00/there.mid")
    assert jobs.job_run_phase(job_id=str(job.id), phase="render", owner="task-1") == JobStatus.FAILED
    job.refresh_from_db()
    assert (job.error_code, job.attempts) == ("storage_forbidden", 1)
    assert "AccessDenied" in job.error_message or "403" in job.error_message


def test_an_unavailable_store_is_retried_not_failed(proxied_s3, alice):
    proxied_s3.mode = "503"
    job = _job_waiting_to_arrange(alice, "midi/00/there.mid")
    with pytest.raises(jobs.StorageUnavailable):
        jobs.job_run_phase(job_id=str(job.id), phase="render", owner="task-1")
    job.refresh_from_db()
    assert job.status == JobStatus.ARRANGING  # still in flight: the task retries it with backoff
