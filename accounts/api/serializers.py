"""Input and output shapes of the accounts API."""

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer

from accounts import vocabulary
from accounts.models import Mode, PreferenceVersion, User
from accounts.names import display_name_problem
from config.api.serializers import StrictInputMixin, StrictSerializer

StrictFieldsMixin = StrictInputMixin  # for serializers we do not own (simplejwt's)


class TokenInput(StrictFieldsMixin, TokenObtainPairSerializer):
    """E-mail and password → an access and a refresh token."""


class TokenRefreshInput(StrictFieldsMixin, TokenRefreshSerializer):
    """A refresh token → a new access token (and, rotated, a new refresh token)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except User.DoesNotExist:  # the account was erased after the token was issued
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account") from None


class RegisterInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(min_length=8, max_length=128, write_only=True, trim_whitespace=False)
    display_name = serializers.CharField(
        max_length=80, required=False, allow_blank=True, default="", trim_whitespace=False
    )

    def validate_email(self, value: str) -> str:
        return value.lower()  # a taken address is not said here: see services.user_register

    def validate_display_name(self, value: str) -> str:
        problem = display_name_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


def _display_name_field() -> serializers.CharField:
    return serializers.CharField(max_length=80, allow_blank=True, trim_whitespace=False)


def _password_field(**options) -> serializers.CharField:
    return serializers.CharField(max_length=128, write_only=True, trim_whitespace=False, **options)


class MeInput(StrictSerializer):
    """What a listener may change about their account (the address and password have their own)."""

    display_name = _display_name_field()

    def validate_display_name(self, value: str) -> str:
        problem = display_name_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class PasswordChangeInput(StrictSerializer):
    current_password = _password_field()
    new_password = _password_field(min_length=8, help_text="judged by the password policy (400 names it)")


class PasswordResetInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInput(StrictSerializer):
    token = serializers.CharField(max_length=200, help_text="the code the reset e-mail gave")
    new_password = _password_field(min_length=8, help_text="judged by the password policy (400 names it)")


class AcceptedOutput(serializers.Serializer):
    detail = serializers.CharField()


class TokenPairOutput(serializers.Serializer):
    """A signed-in session: a short-lived access token and the refresh token that renews it."""

    access = serializers.CharField(help_text="Bearer token for the API (minutes)")
    refresh = serializers.CharField(help_text="POST to /auth/token/refresh for a new pair (days); single-use")


class RegisteredOutput(serializers.Serializer):
    """What registration answers, the same whether or not the address already had an account."""

    email = serializers.EmailField()
    display_name = serializers.CharField()
    detail = serializers.CharField()


class LogoutInput(StrictSerializer):
    refresh = serializers.CharField()


class UserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "public_id", "email", "display_name", "date_joined", "is_staff")
        read_only_fields = fields


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise serializers.ValidationError("Items must not repeat.")
    return values


class PreferencesInput(StrictSerializer):
    """A full set of listening preferences (PATCH merges the current version in first). The
    body GET answered is accepted as it is: its read-only fields are ignored."""

    version = serializers.IntegerField(read_only=True, help_text="read-only: ignored on input")
    created_at = serializers.DateTimeField(read_only=True, help_text="read-only: ignored on input")

    styles = serializers.ListField(
        child=serializers.ChoiceField(choices=vocabulary.STYLES), max_length=len(vocabulary.STYLES)
    )
    moods = serializers.ListField(
        child=serializers.ChoiceField(choices=vocabulary.MOODS), max_length=len(vocabulary.MOODS)
    )
    tempo_min = serializers.IntegerField(min_value=vocabulary.TEMPO_RANGE[0], max_value=vocabulary.TEMPO_RANGE[1])
    tempo_max = serializers.IntegerField(min_value=vocabulary.TEMPO_RANGE[0], max_value=vocabulary.TEMPO_RANGE[1])
    energy = serializers.FloatField(min_value=0.0, max_value=1.0)
    preferred_instruments = serializers.ListField(
        child=serializers.ChoiceField(choices=vocabulary.INSTRUMENT_FAMILIES),
        max_length=len(vocabulary.INSTRUMENT_FAMILIES),
    )
    avoided_instruments = serializers.ListField(
        child=serializers.ChoiceField(choices=vocabulary.INSTRUMENT_FAMILIES),
        max_length=len(vocabulary.INSTRUMENT_FAMILIES),
    )
    mode = serializers.ChoiceField(choices=Mode.choices)
    length_min_s = serializers.IntegerField(
        min_value=vocabulary.LENGTH_RANGE_S[0], max_value=vocabulary.LENGTH_RANGE_S[1]
    )
    length_max_s = serializers.IntegerField(
        min_value=vocabulary.LENGTH_RANGE_S[0], max_value=vocabulary.LENGTH_RANGE_S[1]
    )
    exploration = serializers.FloatField(min_value=0.0, max_value=1.0)

    validate_styles = staticmethod(_distinct)
    validate_moods = staticmethod(_distinct)
    validate_preferred_instruments = staticmethod(_distinct)
    validate_avoided_instruments = staticmethod(_distinct)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        if attrs["tempo_min"] > attrs["tempo_max"]:
            errors["tempo_min"] = "Must not be above tempo_max."
        if attrs["length_min_s"] > attrs["length_max_s"]:
            errors["length_min_s"] = "Must not be above length_max_s."
        both = set(attrs["preferred_instruments"]) & set(attrs["avoided_instruments"])
        if both:
            errors["avoided_instruments"] = f"Also preferred: {', '.join(sorted(both))}."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PreferencesOutput(serializers.ModelSerializer):
    styles = serializers.ListField(child=serializers.ChoiceField(choices=vocabulary.STYLES))
    moods = serializers.ListField(child=serializers.ChoiceField(choices=vocabulary.MOODS))
    preferred_instruments = serializers.ListField(child=serializers.ChoiceField(choices=vocabulary.INSTRUMENT_FAMILIES))
    avoided_instruments = serializers.ListField(child=serializers.ChoiceField(choices=vocabulary.INSTRUMENT_FAMILIES))

    class Meta:
        model = PreferenceVersion
        fields = ("version", "created_at", "styles", "moods", "tempo_min", "tempo_max", "energy",
                  "preferred_instruments", "avoided_instruments", "mode", "length_min_s", "length_max_s",
                  "exploration")
        read_only_fields = fields


class ExportUserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    public_id = serializers.UUIDField()
    email = serializers.EmailField()
    display_name = serializers.CharField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)


class ExportPreferenceVersionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class MeExportOutput(serializers.Serializer):
    """Every personal row: the account and its preference versions, then one list per kind of
    row the other apps keep (listening events, tracks, playlists, reports …)."""

    user = ExportUserOutput()
    preference_versions = ExportPreferenceVersionOutput(many=True, help_text="each with every preference field")
