"""Settings entry point: the embedded default, or production when ``DJANGO_ENV=production``."""

import os

if os.environ.get("DJANGO_ENV", "development") == "production":
    from .production import *  # noqa: F403
else:
    from .base import *  # noqa: F403
