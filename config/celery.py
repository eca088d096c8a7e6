"""The Celery app. Queues per stage so a GPU pool can take ``compose``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cadenza")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic upkeep (run `celery -A config beat`): the reaper takes back stuck jobs, the sweeper
# deletes objects no row references, the refill tops up active listeners' playlists ahead of time,
# the population prior is learned again from every listener's taste.
app.conf.beat_schedule = {
    "reap-jobs": {"task": "generation.tasks.reap_jobs", "schedule": 60.0},
    "sweep-objects": {"task": "generation.tasks.sweep_objects", "schedule": 3600.0},
    "refill-playlists": {"task": "recommendations.tasks.playlists_refill", "schedule": 60.0},
    "population-prior": {"task": "recommendations.tasks.population_prior_recompute", "schedule": 6 * 3600.0},
}
