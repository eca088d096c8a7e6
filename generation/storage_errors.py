"""What a storage error means for a job: which fail at once with their own code, which are retried.

- missing objects (S3 ``NoSuchKey``/``NoSuchBucket``/404, a local ``FileNotFoundError``) →
  ``storage_missing``, fail fast: retrying will not make them appear;
- permission and credential errors (``AccessDenied``/403, bad keys or signatures, a local
  ``PermissionError``) → ``storage_forbidden``, fail fast: an operator must fix the configuration;
- 5xx, throttling (``SlowDown``, 429, 503), timeouts and dropped connections →
  ``storage_unavailable``, retried with backoff.
Anything else is not a storage error (None).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StorageFailure:
    code: str
    transient: bool


MISSING = StorageFailure("storage_missing", transient=False)
FORBIDDEN = StorageFailure("storage_forbidden", transient=False)
UNAVAILABLE = StorageFailure("storage_unavailable", transient=True)

MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "NotFound", "404", "NoSuchUpload"})
FORBIDDEN_CODES = frozenset({
    "AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
    "AccountProblem", "InvalidToken", "ExpiredToken", "InvalidObjectState",
})
THROTTLED_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
    "RequestTimeout", "RequestTimeTooSkewed", "ServiceUnavailable", "InternalError", "503", "500",
})


def _client_error(error) -> StorageFailure:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in MISSING_CODES or status == 404:
        return MISSING
    if code in FORBIDDEN_CODES or status in (401, 403):
        return FORBIDDEN
    if code in THROTTLED_CODES or status >= 500 or status in (408, 429):
        return UNAVAILABLE
    return FORBIDDEN if 400 <= status < 500 else UNAVAILABLE  # another client error will not heal


def classify(error: BaseException) -> StorageFailure | None:
    """The failure ``error`` stands for, or None when it is not a storage error."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    if isinstance(error, ClientError):
        return _client_error(error)
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return FORBIDDEN
    if isinstance(error, BotoCoreError):
        return UNAVAILABLE  # endpoint unreachable, connect/read timeouts, dropped connections
    if isinstance(error, FileNotFoundError):
        return MISSING
    if isinstance(error, PermissionError):
        return FORBIDDEN
    if isinstance(error, ConnectionError | TimeoutError):
        return UNAVAILABLE
    return None
