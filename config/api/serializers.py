"""Serializer building blocks shared by the apps."""

from typing import Any

from rest_framework import serializers

_STRINGS = (serializers.CharField, serializers.ChoiceField, serializers.UUIDField, serializers.DateTimeField,
            serializers.DateField, serializers.TimeField, serializers.DurationField)


def _json_type_problem(field: serializers.Field, value: Any) -> str | None:
    """The JSON type ``field`` takes, if ``value`` is not of it (DRF casts 1 to "1", "2" to 2.0,
    true to 1.0 and "yes" to True; the schema says string, number, boolean, and so do we)."""
    if value is None:
        return None  # allow_null decides
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "Must be a JSON integer."
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return None if isinstance(value, int | float) and not isinstance(value, bool) else "Must be a JSON number."
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return "Must be a JSON array."
        child = getattr(field, "child", None)
        for item in value:
            if child is not None and (problem := _json_type_problem(child, item)):
                return f"Every item: {problem[0].lower()}{problem[1:]}"
        return None
    if isinstance(field, serializers.DictField):
        return None if isinstance(value, dict) else "Must be a JSON object."
    if isinstance(field, _STRINGS):
        return None if isinstance(value, str) else "Must be a JSON string."
    return None


def json_type_errors(fields: dict[str, serializers.Field], data: Any) -> dict[str, list[str]]:
    """Field name → problem, for each given value that is not of its field's JSON type."""
    if not isinstance(data, dict):
        return {}
    errors = {}
    for name, value in data.items():
        field = fields.get(name)
        if field is not None and not field.read_only and (problem := _json_type_problem(field, value)):
            errors[name] = [problem]
    return errors


def read_only_errors(fields: dict[str, serializers.Field], data: Any) -> dict[str, list[str]]:
    """Field name → problems, for each read-only field sent with a value it could not have had
    (a read-only value is ignored, but only one the API could have given is accepted)."""
    if not isinstance(data, dict):
        return {}
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        field = fields.get(name)
        if field is None or not field.read_only:
            continue
        problem = _json_type_problem(field, value)
        if problem:
            errors[name] = [problem]
            continue
        options = {k: v for k, v in field._kwargs.items() if k not in ("read_only", "source")}
        twin = type(field)(*field._args, **options)  # the same field, writable, to judge the value
        try:
            twin.run_validation(value)
        except serializers.ValidationError as invalid:
            errors[name] = [str(item) for item in invalid.detail]
    return errors


class StrictInputMixin:
    """Unknown fields are named instead of silently dropped; values of the wrong JSON type are
    refused instead of cast; read-only fields may be sent back as the API gave them (ignored)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
            wrong = json_type_errors(self.fields, data) | read_only_errors(self.fields, data)
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


class StrictSerializer(StrictInputMixin, serializers.Serializer):
    """A serializer that names unknown fields and refuses values of the wrong JSON type."""
