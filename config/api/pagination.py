"""Cursor pagination: stable under inserts, which offset pages are not."""

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


def _bad_cursor() -> exceptions.ValidationError:
    return exceptions.ValidationError({"cursor": ["Not a cursor this list gave."]})


class NewestFirstCursorPagination(CursorPagination):
    """Newest first by creation time; ``?page_size=`` up to 200. A cursor that is not one of
    ours (undecodable, or its position not a value of the ordering field) is a 400 naming it."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Must be an integer from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["next", "previous", "results"]  # always present (null at an end)
        return paginated

    def paginate_queryset(self, queryset, request, view=None) -> list[Any] | None:
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise _bad_cursor() from None
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: str) -> None:
        ordering = self.ordering if isinstance(self.ordering, list | tuple) else (self.ordering,)
        try:
            field = self._model._meta.get_field(ordering[0].lstrip("-"))
            field.get_prep_value(field.to_python(position))
        except (DjangoValidationError, FieldDoesNotExist, ValueError, TypeError, OverflowError):
            raise _bad_cursor() from None
