"""API exceptions of our own (DRF's cover the rest)."""

from rest_framework import exceptions, status


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "body_too_large"
