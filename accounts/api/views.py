"""The accounts API: one small class per operation; services decide, views parse and render."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import selectors, services
from accounts.api import serializers as s
from accounts.api.throttles import (
    PasswordResetClientThrottle,
    PasswordResetEmailThrottle,
    RefreshThrottle,
    RegisterClientThrottle,
    RegisterEmailThrottle,
)
from config.api import conditional
from config.api.errors import error_body


def _field_refused(field: str, messages: list[str]) -> Response:
    """A 400 in the one error shape, naming the field."""
    return Response(error_body("invalid", f"Invalid input: {field}.", {field: messages}),
                    status=status.HTTP_400_BAD_REQUEST)


def _password_refused(rejected: services.PasswordRejected, field: str) -> Response:
    return _field_refused(field, rejected.messages)


class RegisterApi(APIView):
    """Ask for a listener account. The answer is the same whether or not the address already has
    one (its owner is e-mailed instead); throttled per client address and per e-mail address."""

    permission_classes = (AllowAny,)
    authentication_classes = ()  # a token, valid or not, changes nothing here (nor the throttle)
    throttle_classes = (RegisterClientThrottle, RegisterEmailThrottle)

    @extend_schema(request=s.RegisterInput, responses={201: s.RegisteredOutput})
    def post(self, request):
        data = s.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.registration_request(**data.validated_data)
        except services.PasswordRejected as rejected:
            return _password_refused(rejected, "password")
        body = {
            "email": data.validated_data["email"],
            "display_name": data.validated_data["display_name"],
            "detail": "Registered: sign in with this address and your password. We have sent it an e-mail.",
        }
        return Response(s.RegisteredOutput(body).data, status=status.HTTP_201_CREATED)


class TokenApi(TokenObtainPairView):
    """E-mail and password → access and refresh tokens (throttled against brute force)."""

    serializer_class = s.TokenInput
    throttle_scope = "login"
    error_statuses = (401,)  # wrong e-mail or password

    @extend_schema(responses={200: s.TokenPairOutput})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class TokenRefreshApi(TokenRefreshView):
    """Refresh token → a new pair (the one sent stops working). Throttled per listener, not with
    sign-in's per-address limit."""

    serializer_class = s.TokenRefreshInput
    throttle_classes = (RefreshThrottle,)
    error_statuses = (401,)  # refresh token expired, blacklisted or its account erased

    @extend_schema(responses={200: s.TokenPairOutput})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutApi(APIView):
    """Blacklist a refresh token: it stops working at once."""

    @extend_schema(request=s.LogoutInput, responses={204: None})
    def post(self, request):
        data = s.LogoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token = RefreshToken(data.validated_data["refresh"])
        except TokenError:
            return _field_refused("refresh", ["Invalid or expired token."])
        if str(token.get("user_id")) != str(request.user.pk):
            return _field_refused("refresh", ["Not your token."])
        token.blacklist()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    """The signed-in listener; PATCH changes the display name; DELETE erases the account and its
    personal data."""

    @extend_schema(responses={200: s.UserOutput})
    def get(self, request):
        return Response(s.UserOutput(request.user).data)

    @extend_schema(request=s.MeInput, responses={200: s.UserOutput})
    def patch(self, request):
        data = s.MeInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(s.UserOutput(services.user_rename(user=request.user, **data.validated_data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request):
        services.user_erase(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    """Change the password (the current one first); every refresh token of the account stops
    working, this device's too: sign in again with the new password."""

    throttle_scope = "password_change"

    @extend_schema(request=s.PasswordChangeInput, responses={204: None})
    def post(self, request):
        data = s.PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.password_change(user=request.user, **data.validated_data)
        except services.PasswordWrong as wrong:
            return _field_refused("current_password", [str(wrong)])
        except services.PasswordRejected as rejected:
            return _password_refused(rejected, "new_password")
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetApi(APIView):
    """Ask for a password-reset code by e-mail. Always 202, whether or not the address has an
    account; throttled per client address and per e-mail address."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (PasswordResetClientThrottle, PasswordResetEmailThrottle)

    @extend_schema(request=s.PasswordResetInput, responses={202: s.AcceptedOutput})
    def post(self, request):
        data = s.PasswordResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"])
        body = {"detail": "If an account has this address, we have e-mailed it a reset code."}
        return Response(s.AcceptedOutput(body).data, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(APIView):
    """Set a new password with the e-mailed code (it works once and expires); every refresh token
    of the account stops working."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (PasswordResetClientThrottle,)

    @extend_schema(request=s.PasswordResetConfirmInput, responses={204: None})
    def post(self, request):
        data = s.PasswordResetConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.password_reset_confirm(**data.validated_data)
        except services.ResetTokenInvalid as invalid:
            return _field_refused("token", [str(invalid)])
        except services.PasswordRejected as rejected:
            return _password_refused(rejected, "new_password")
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeExportApi(APIView):
    """Every personal row of the signed-in listener, as one JSON document."""

    @extend_schema(responses={200: s.MeExportOutput})
    def get(self, request):
        return Response(selectors.user_export(user=request.user))


class PreferencesApi(APIView):
    """The current preferences; PUT replaces them, PATCH changes some. Each write is a new version."""

    @extend_schema(parameters=[conditional.IF_NONE_MATCH], responses=conditional.responses(s.PreferencesOutput))
    def get(self, request):
        body = s.PreferencesOutput(selectors.preferences_current(user=request.user)).data
        return conditional.respond(request, body)

    @extend_schema(request=s.PreferencesInput, responses={200: s.PreferencesOutput})
    def put(self, request):
        return self._write(request, dict(request.data) if isinstance(request.data, dict) else request.data)

    @extend_schema(request=s.PreferencesInput, responses={200: s.PreferencesOutput})
    def patch(self, request):
        if not isinstance(request.data, dict):
            return self._write(request, request.data)
        current = s.PreferencesOutput(selectors.preferences_current(user=request.user)).data
        merged = {name: current[name] for name in s.PreferencesInput().fields} | request.data
        return self._write(request, merged)

    def _write(self, request, data):
        parsed = s.PreferencesInput(data=data)
        parsed.is_valid(raise_exception=True)
        version = services.preferences_update(user=request.user, changes=parsed.validated_data)
        return conditional.respond(request, s.PreferencesOutput(version).data)
