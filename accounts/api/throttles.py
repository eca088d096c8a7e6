"""Throttles of the accounts API: per client address, per e-mail address, per refresh token's
listener, whatever token is sent. Each records its window for the RateLimit headers."""

import hashlib

from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from config.api.throttles import RateLimitStateMixin


class ClientThrottle(RateLimitStateMixin, SimpleRateThrottle):
    """Requests per client IP (a Bearer token does not make a caller someone else)."""

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class EmailThrottle(RateLimitStateMixin, SimpleRateThrottle):
    """Requests per e-mail address in the body (so one address cannot be used to flood its
    owner's inbox)."""

    def get_cache_key(self, request, view) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email:
            return None  # the serializer names the missing field
        digest = hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


class RegisterClientThrottle(ClientThrottle):
    scope = "register"


class RegisterEmailThrottle(EmailThrottle):
    scope = "register_email"


class PasswordResetClientThrottle(ClientThrottle):
    scope = "password_reset"


class PasswordResetEmailThrottle(EmailThrottle):
    scope = "password_reset_email"


class RefreshThrottle(RateLimitStateMixin, SimpleRateThrottle):
    """Token refreshes per listener the refresh token names (phones behind one carrier NAT share
    an address); a token that does not verify counts against the client address."""

    scope = "refresh"

    def get_cache_key(self, request, view) -> str:
        data = request.data
        raw = data.get("refresh") if isinstance(data, dict) else None
        ident = None
        if isinstance(raw, str) and raw:
            try:
                ident = RefreshToken(raw, verify=True).get(jwt_settings.USER_ID_CLAIM)
            except TokenError:
                ident = None
        who = f"user-{ident}" if ident is not None else f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": who}
