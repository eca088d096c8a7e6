"""The Celery app. Queues per stage so a GPU pool can take ``compose``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cadenza")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
