"""The sweeper: delete objects no row references, once they are older than a grace period."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from generation import objects
from generation.models import (
    TERMINAL_STATUSES,
    GenerationJob,
    Licence,
    Provenance,
    Rendition,
    Track,
)
from generation.services.licences import licence_key

PREFIXES = ("tracks/", "midi/", "work/", "images/", "provenance/", "licences/")


def referenced_keys() -> set[str]:
    """Every key a row points at, including the work objects of jobs still in flight."""
    keys: set[str] = set(Rendition.objects.values_list("key", flat=True))
    for row in Track.objects.values("midi_key", "piano_roll_key", "waveform_key"):
        keys |= {value for value in row.values() if value}
    keys |= set(Provenance.objects.values_list("storage_key", flat=True))
    keys |= {licence_key(str(i)) for i in Licence.objects.values_list("id", flat=True)}
    keys |= set(Track.objects.filter(job__isnull=False).values_list("job__work__composition__midi_key", flat=True))
    for work in GenerationJob.objects.exclude(status__in=TERMINAL_STATUSES).values_list("work", flat=True):
        keys |= _work_keys(work)
    return {key for key in keys if key}


def _work_keys(work: dict) -> set[str]:
    keys = {work.get(stage, {}).get(field) for stage, field in (
        ("composition", "midi_key"), ("arrangement", "midi_key"), ("mix", "key"), ("master", "key"))}
    keys |= {r["key"] for r in work.get("renditions", [])}
    keys |= {v["key"] for v in work.get("master", {}).get("variants", [])}
    return {key for key in keys if key}


SIDECAR_SUFFIX = ".c2pa.json"


def is_referenced(key: str, referenced: set[str]) -> bool:
    """A key rows point at, or the C2PA sidecar manifest of one."""
    return key in referenced or (key.endswith(SIDECAR_SUFFIX) and key.removesuffix(SIDECAR_SUFFIX) in referenced)


def objects_sweep(*, grace: timedelta | None = None) -> list[str]:
    """Delete unreferenced objects older than ``grace``; returns the deleted keys."""
    grace = grace if grace is not None else timedelta(seconds=settings.CADENZA_SWEEP_GRACE_SECONDS)
    cutoff = timezone.now() - grace
    referenced = referenced_keys()
    deleted = []
    for prefix in PREFIXES:
        for key, modified in list(objects.list_objects(prefix)):
            if not is_referenced(key, referenced) and modified <= cutoff:
                objects.delete_object(key)
                deleted.append(key)
    return deleted
