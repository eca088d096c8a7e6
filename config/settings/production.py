"""Production: everything the embedded default leaves open must come from the environment."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEV_SECRET_KEY, SECRET_KEY, env

if not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production."
    )

if not env.str("CADENZA_LICENCE_SIGNING_KEY", default=""):
    raise ImproperlyConfigured("CADENZA_LICENCE_SIGNING_KEY (an Ed25519 private key, PEM) is required in production.")

# C2PA content credentials: a signing chain and its key, or the explicit choice to publish without
# (CADENZA_PUBLISH_WITHOUT_C2PA=true, then recorded in every provenance record).
CADENZA_PUBLISH_WITHOUT_C2PA = env.bool("CADENZA_PUBLISH_WITHOUT_C2PA", default=False)
if not CADENZA_PUBLISH_WITHOUT_C2PA:
    _chain, _key = env.str("CADENZA_C2PA_CERT", default=""), env.str("CADENZA_C2PA_KEY", default="")
    if not (_chain and _key and Path(_chain).is_file() and Path(_key).is_file()):
        raise ImproperlyConfigured(
            "CADENZA_C2PA_CERT and CADENZA_C2PA_KEY (a C2PA signing chain and its key, PEM files) are required "
            "in production; set CADENZA_PUBLISH_WITHOUT_C2PA=true to publish without content credentials "
            "(every provenance record then says so)."
        )

DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")  # no default: refuse to guess the host names

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$", r"^api/v1/ready$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
WHITENOISE_USE_FINDERS = False  # static files come from collectstatic's STATIC_ROOT (the image runs it)
