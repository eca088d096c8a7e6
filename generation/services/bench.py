"""The production path, timed: one request through the stage functions jobs run, and the floor.

``bench_production(length_s=180, style="folk", repeats=3)`` creates a job with
``generation_job_create`` and runs its phases with ``job_run_phase`` (compose → render → publish,
the same claims, stages, object writes and rows a worker makes) inside a transaction that is
rolled back, with objects written to a temporary folder when storage is local; then the floor on
the same arranged MIDI and master (``fluidsynth -ni -F`` + the encoders,
``generation.audio.bench._floor``). Medians over the repeats.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from django.db import transaction
from django.test import override_settings

from generation import objects, pipeline


class _RollBack(Exception):
    pass


def bench_request(length_s: float, style: str):
    from generation.model.conditioning import Conditioning
    from generation.requests import GenerationRequest

    cond = Conditioning(112.0, 2, "major", "4/4", 3.6, 66.0, 4.0, 32, ("strings",))
    return GenerationRequest(cond, style=style, mood=None, length_s=float(length_s))


def _one(length_s: float, style: str, seed: int, tmp: Path) -> dict[str, Any]:
    from accounts.models import User
    from generation.audio.bench import _floor
    from generation.audio.encode import RENDITIONS
    from generation.models import JobStatus
    from generation.services.jobs import generation_job_create, job_run_phase

    out: dict[str, Any] = {}
    try:
        with transaction.atomic():
            user = User.objects.create_user(f"bench-{uuid.uuid4().hex[:10]}@cadenza.invalid", uuid.uuid4().hex)
            job = generation_job_create(user=user, request=bench_request(length_s, style), seed=seed, charge_quota=False)
            phases: dict[str, float] = {}
            for phase in ("compose", "render", "publish"):
                t0 = time.perf_counter()
                job_run_phase(job_id=str(job.id), phase=phase, owner="bench")
                phases[phase] = round(time.perf_counter() - t0, 3)
            job.refresh_from_db()
            if job.status != JobStatus.PUBLISHED:
                raise RuntimeError(f"the bench job ended {job.status}: {job.error_code} {job.error_message}")
            work = job.work
            out = {
                "phases_s": phases,
                "total_s": round(sum(phases.values()), 3),
                "total_without_compose_s": round(phases["render"] + phases["publish"], 3),
                "stages_s": {
                    "compose": work["composition"]["seconds"], "arrange": work["arrangement"]["seconds"],
                    "render+mix": work["mix"]["seconds"], "master": work["master"]["seconds"],
                    "encode+decoded_checks": work["encode_seconds"], "check": work["gates"]["seconds"],
                },
                "renditions": [{"format": r["format"], **r["decoded"]} for r in work["renditions"]],
                "instruments": [i["name"] for i in work["arrangement"]["instruments"]],
            }
            midi_path, master_wav = tmp / "arrangement.mid", tmp / "master.wav"
            midi_path.write_bytes(objects.read_object(work["arrangement"]["midi_key"]))
            import soundfile as sf

            audio, rate = pipeline.audio_from_bytes(objects.read_object(work["master"]["key"]))
            sf.write(master_wav, audio.T, rate, subtype="FLOAT")
            raise _RollBack
    except _RollBack:
        pass
    out["floor"] = _floor(midi_path, tmp / "cli.wav", master_wav, pipeline.soundfont(), RENDITIONS, workers=2)
    out["ratio_to_floor_without_compose"] = round(out["total_without_compose_s"] / out["floor"]["total_s"], 3)
    return out


def bench_production(*, length_s: float = 180.0, style: str = "folk", seed: int = 7, repeats: int = 3) -> dict:
    """Medians of ``repeats`` production-path runs, each with the floor measured right after it."""
    from django.conf import settings

    runs = []
    with tempfile.TemporaryDirectory(prefix="cadenza-bench-prod-") as tmp:
        storage = dict(settings.STORAGES)
        if not settings.AWS_STORAGE_BUCKET_NAME:  # local objects: keep the bench's out of var/media
            storage["default"] = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                  "OPTIONS": {"location": str(Path(tmp) / "media"), "base_url": "/media/"}}
        with override_settings(STORAGES=storage):
            pipeline.model_bundle()  # a worker loads the checkpoint once per process
            for _ in range(max(1, repeats)):
                runs.append(_one(length_s, style, seed, Path(tmp)))

    def med(values) -> float:
        return round(float(statistics.median(values)), 3)

    total = med(r["total_s"] for r in runs)
    ratio = med(r["ratio_to_floor_without_compose"] for r in runs)
    return {
        "path": "production: generation_job_create + job_run_phase(compose, render, publish), rolled back",
        "track": {"style": style, "seed": seed, "length_s": length_s, "instruments": runs[-1]["instruments"]},
        "repeats": len(runs),
        "phases_s": {k: med(r["phases_s"][k] for r in runs) for k in runs[0]["phases_s"]},
        "stages_s": {k: med(r["stages_s"][k] for r in runs) for k in runs[0]["stages_s"]},
        "total_s": total,
        "total_s_runs": [r["total_s"] for r in runs],
        "total_without_compose_s": med(r["total_without_compose_s"] for r in runs),
        "floor_total_s": med(r["floor"]["total_s"] for r in runs),
        "floor": runs[-1]["floor"],
        "ratio_to_floor_without_compose": ratio,
        "ratio_runs": [r["ratio_to_floor_without_compose"] for r in runs],
        "renditions": runs[-1]["renditions"],
        "targets": {"total_le_20s": total <= 20.0, "le_1_5x_floor": ratio <= 1.5},
        "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)},
    }

