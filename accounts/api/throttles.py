"""Registration throttles: per client address and per e-mail address, whatever token is sent."""

import hashlib

from rest_framework.throttling import SimpleRateThrottle


class RegisterClientThrottle(SimpleRateThrottle):
    """Registrations per client IP (a Bearer token does not make a caller someone else)."""

    scope = "register"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RegisterEmailThrottle(SimpleRateThrottle):
    """Registrations per e-mail address (so one address cannot be used to flood its owner's inbox)."""

    scope = "register_email"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email:
            return None  # the serializer names the missing field
        digest = hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}
