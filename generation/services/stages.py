"""One service per pipeline stage: read the job's inputs, call the pure stage, store the output.

Each stage is idempotent: its outputs are content-addressed objects (a rerun writes the same keys,
or finds them there) recorded in ``job.work`` when the stage's move commits. A stage returns the
``work`` entries it produced, or raises ``Rejection`` when a quality gate fails the track.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any

from django.conf import settings

from generation import objects, pipeline
from generation.models import GenerationJob, JobStatus

MIDI = "audio/midi"
FLAC = "audio/flac"


class Rejection(Exception):
    """A quality gate or the originality check refused the track."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _plain(value: Any) -> Any:
    """Dataclasses and numpy scalars → JSON-ready values."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON (and PostgreSQL's jsonb) has no NaN: "not measured"
    return value


def _meta(job: GenerationJob) -> dict[str, str]:
    """Object metadata: opaque ids only (whoever holds a signed URL sees these headers)."""
    from generation.provenance.licence import LICENCE_PERSONAL

    return {"provenance-id": job.work["provenance_id"], "licence-id": LICENCE_PERSONAL}


def _timed(work: dict[str, Any], started: float) -> dict[str, Any]:
    return {**work, "seconds": round(time.perf_counter() - started, 3)}


def compose(job: GenerationJob) -> dict[str, Any]:
    from generation.model.compose import compose as compose_piece
    from generation.model.conditioning import Conditioning

    started = time.perf_counter()
    bundle = pipeline.model_bundle()
    options = dict(settings.CADENZA_COMPOSE_OPTIONS)
    piece = compose_piece(bundle, Conditioning.from_vector(job.conditioning), seed=job.seed, **options)
    stored = objects.put_object(piece.midi_bytes, prefix="midi", extension="mid", content_type=MIDI, metadata=_meta(job))
    return {
        "composition": _timed(
            {
                "midi_key": stored.key,
                "midi_sha256": stored.sha256,
                "sampling": _plain(piece.sampling),
                "measured": _plain(piece.measured.as_dict()),
                "originality": _plain(piece.originality),
                "candidates": _plain(piece.candidates),
                "model": {
                    "name": bundle.model_name,
                    "version": bundle.model_version,
                    "checkpoint_sha256": bundle.checkpoint_sha256,
                    "manifest_sha256": bundle.manifest_sha256,
                    "training_data": pipeline.training_terms(bundle.manifest_sha256),
                },
            },
            started,
        )
    }


def arrange(job: GenerationJob) -> dict[str, Any]:
    from generation.audio.arrange import ARRANGER_VERSION
    from generation.audio.arrange import arrange as arrange_piece
    from generation.model.conditioning import Conditioning

    started = time.perf_counter()
    piece = pipeline.midi_from_bytes(objects.read_object(job.work["composition"]["midi_key"]))
    request = job.work["request"]
    cond = Conditioning.from_vector(job.conditioning)
    arranged = arrange_piece(
        piece, job.style, seed=job.seed, length_s=job.length_s, avoid_instruments=request["avoid_instruments"],
        tempo_bpm=cond.tempo_bpm, key=(cond.key_tonic, cond.mode), version=ARRANGER_VERSION,
    )
    data = pipeline.midi_to_bytes(arranged)
    stored = objects.put_object(data, prefix="midi", extension="mid", content_type=MIDI, metadata=_meta(job))
    programs = [
        {"name": inst.name, "program": inst.program, "is_drum": inst.is_drum, "notes": len(inst.notes)}
        for inst in arranged.instruments
    ]
    from generation.audio.heard import heard_attributes

    return {"arrangement": _timed({"midi_key": stored.key, "midi_sha256": stored.sha256, "version": ARRANGER_VERSION,
                                   "instruments": programs,
                                   "measured": _plain(heard_attributes(arranged))}, started)}


def render(job: GenerationJob) -> dict[str, Any]:
    from generation.audio.pipeline import render_and_mix

    started = time.perf_counter()
    arranged = pipeline.midi_from_bytes(objects.read_object(job.work["arrangement"]["midi_key"]))
    mixed, plan = render_and_mix(arranged, style=job.style, soundfont=pipeline.soundfont(),
                                 sample_rate=pipeline.SAMPLE_RATE, length_s=job.length_s)
    stored = objects.put_object(
        pipeline.audio_to_flac(mixed), prefix="work", extension="flac", content_type=FLAC, metadata=_meta(job)
    )
    return {
        "mix": _timed(
            {
                "key": stored.key,
                "sha256": stored.sha256,
                "stems": [stem.name for stem in plan.stems],
                "plan": _plain(plan),
                "soundfont": {"path_name": pipeline.soundfont().name, "sha256": pipeline.soundfont_sha256()},
            },
            started,
        )
    }


def rendition_failures(renditions: list[dict]) -> list[tuple[str, str]]:
    """Every rendition, decoded, within -14 +/- 0.5 LUFS and at most -1.0 dBTP (as measured by the
    encode stage on the encoded bytes)."""
    from generation.audio import gates

    out = []
    for r in renditions:
        m = r.get("decoded") or {}
        if not m:
            out.append((gates.INVALID, f"{r['format']}: not measured after encoding"))
            continue
        if abs(m["lufs"] - gates.TARGET_LUFS) > gates.LUFS_TOLERANCE:
            out.append((gates.LOUDNESS, f"{r['format']} decoded at {m['lufs']:.2f} LUFS"))
        if m["true_peak_dbtp"] > gates.CEILING_DBTP:
            out.append((gates.TRUE_PEAK, f"{r['format']} decoded peaks at {m['true_peak_dbtp']:.2f} dBTP"))
    return out


def master(job: GenerationJob) -> dict[str, Any]:
    """The standard master (-1.0 dBTP, -14 LUFS) and, side by side, the master each lossy tier
    starts from (``RenditionSpec.first_master``), each stored as 24-bit FLAC."""
    from concurrent.futures import ThreadPoolExecutor

    from generation.audio.encode import RENDITIONS, STANDARD_MASTER, first_masters
    from generation.audio.master import master as master_audio
    from generation.audio.styles import get_style

    started = time.perf_counter()
    mixed, rate = pipeline.audio_from_bytes(objects.read_object(job.work["mix"]["key"]))
    brightness = get_style(job.style).brightness_db
    variants = first_masters(RENDITIONS)

    def one(ceiling_target: tuple[float, float]):
        audio, report = master_audio(mixed, rate, brightness_db=brightness, measure_input=False,
                                     ceiling_dbtp=ceiling_target[0], target_lufs=ceiling_target[1])
        stored = objects.put_object(pipeline.audio_to_flac(audio, rate), prefix="work", extension="flac",
                                    content_type=FLAC, metadata=_meta(job))
        return {"key": stored.key, "sha256": stored.sha256, "report": _plain(report)}

    with ThreadPoolExecutor(max_workers=1 + len(variants)) as pool:
        standard, *others = pool.map(one, [STANDARD_MASTER, *variants])
    standard["variants"] = [{"ceiling_dbtp": c, "target_lufs": t, **o} for (c, t), o in zip(variants, others, strict=True)]
    return {"master": _timed(standard, started)}


def encode(job: GenerationJob) -> dict[str, Any]:
    from generation.audio.encode import encode_checked
    from generation.audio.master import master as master_audio
    from generation.audio.styles import get_style
    from generation.audio.tags import TrackTags
    from generation.provenance.licence import LICENCE_PERSONAL

    started = time.perf_counter()
    credentials = content_credentials_policy()
    masters = {}  # the lossy tiers' masters, as the master stage stored them (jobs mastered before: none)
    for v in job.work["master"].get("variants", []):
        audio, _ = pipeline.audio_from_bytes(objects.read_object(v["key"]))
        masters[(v["ceiling_dbtp"], v["target_lufs"])] = (audio, (v["report"]["lufs"], v["report"]["true_peak_dbtp"]))
    # decoded last, so the process's decode cache keeps it for the check stage
    mastered, rate = pipeline.audio_from_bytes(objects.read_object(job.work["master"]["key"]))
    model = job.work["composition"]["model"]
    tags = TrackTags(
        title=job.work["title"],
        licence_id=LICENCE_PERSONAL,
        licence_url=f"{_site()}/api/v1/licences/{LICENCE_PERSONAL}",
        provenance_id=job.work["provenance_id"],
        generator_model=model["name"],
        generator_version=model["version"],
    )
    renditions = []
    report = job.work["master"]["report"]
    measured = (report["lufs"], report["true_peak_dbtp"])

    mix: list = []
    mix_lock = threading.Lock()

    def remaster(ceiling_dbtp: float, target_lufs: float):
        """The mix mastered at another ceiling and level: the lossy tiers' first master, and again
        for a rendition whose encode overshot (renditions are encoded side by side: one reads
        the mix for all)."""
        with mix_lock:
            if not mix:
                mix.extend(pipeline.audio_from_bytes(objects.read_object(job.work["mix"]["key"])))
        mixed, mix_rate = mix
        again, again_report = master_audio(mixed, mix_rate, brightness_db=get_style(job.style).brightness_db,
                                           ceiling_dbtp=ceiling_dbtp, target_lufs=target_lufs, measure_input=False)
        return again, (again_report.lufs, again_report.true_peak_dbtp)

    for rendition in encode_checked(mastered, rate, tags=tags, measured=measured, remaster=remaster, masters=masters):
        credentialed = _with_credentials(job, rendition)
        stored = objects.put_object(
            credentialed.data,
            prefix="tracks",
            extension=rendition.extension,
            content_type=rendition.mime_type,
            metadata=_meta(job),
        )
        if credentialed.sidecar is not None:
            sidecar = json.dumps(credentialed.sidecar, sort_keys=True).encode()
            objects.put_at_key(stored.key + ".c2pa.json", sidecar, content_type="application/json", metadata=_meta(job))
        renditions.append(
            {
                "format": rendition.name,
                "container": rendition.container,
                "codec": rendition.codec,
                "mime_type": rendition.mime_type,
                "bitrate_kbps": rendition.bitrate_kbps,
                "key": stored.key,
                "sha256": stored.sha256,
                "size": stored.size,
                "duration_s": rendition.duration_s,
                "encoder": _plain(rendition.encoder),
                "decoded": _plain(rendition.decoded),
                "c2pa": "embedded" if credentialed.embedded else ("sidecar" if credentialed.sidecar else "none"),
            }
        )
    return {"renditions": renditions, "content_credentials": credentials,
            "encode_seconds": round(time.perf_counter() - started, 3)}


class NoSigningChain(Exception):
    """No C2PA signing chain, and CADENZA_PUBLISH_WITHOUT_C2PA does not allow publishing without."""


def content_credentials_policy() -> dict[str, Any]:
    """What the provenance record says about content credentials (checked before encoding)."""
    if _c2pa_signer() is not None:
        return {"c2pa": "signed", "published_without_c2pa": False}
    if not settings.CADENZA_PUBLISH_WITHOUT_C2PA:
        raise NoSigningChain(
            f"no C2PA signing chain at {settings.CADENZA_C2PA_CERT} / {settings.CADENZA_C2PA_KEY}; "
            "set CADENZA_PUBLISH_WITHOUT_C2PA=true to publish without content credentials"
        )
    return {"c2pa": "none", "published_without_c2pa": True, "reason": "CADENZA_PUBLISH_WITHOUT_C2PA"}


def _with_credentials(job: GenerationJob, rendition):
    """C2PA content credentials: embedded where the format allows it, else a sidecar manifest."""
    from generation.provenance import c2pa_embed

    signer = _c2pa_signer()
    if signer is None:  # allowed: content_credentials_policy() was asked first
        return c2pa_embed.Credentialed(data=rendition.data, embedded=False, sidecar=None)
    model = job.work["composition"]["model"]
    return c2pa_embed.attach_credentials(
        rendition.data,
        rendition.mime_type,
        title=job.work["title"],
        claim_generator="Cadenza",
        provenance_id=job.work["provenance_id"],
        licence_id=_meta(job)["licence-id"],
        model_name=model["name"],
        model_version=model["version"],
        cert_chain_pem=signer[0],
        private_key_pem=signer[1],
    )


def _c2pa_signer() -> tuple[bytes, bytes] | None:
    chain, key = settings.CADENZA_C2PA_CERT, settings.CADENZA_C2PA_KEY
    if not (chain and key) or not chain.exists() or not key.exists():
        return None
    return chain.read_bytes(), key.read_bytes()


def _site() -> str:
    return settings.SITE_URL.rstrip("/")


def check(job: GenerationJob) -> dict[str, Any]:
    from generation.audio.gates import run_gates

    started = time.perf_counter()
    originality = job.work["composition"]["originality"]
    if originality["verdict"] != "original":
        raise Rejection(
            "too_close",
            f"{originality['longest_match_notes']} notes match {originality['nearest_piece']}",
        )
    mastered, rate = pipeline.audio_from_bytes(objects.read_object(job.work["master"]["key"]))
    # the master's loudness and true peak, as the master stage measured this very audio (before
    # its 24-bit FLAC: ~1e-6 dB apart); every rendition's own are measured decoded (encode)
    report = job.work["master"]["report"]
    gates = run_gates(mastered, rate, requested_duration_s=job.length_s,
                      lufs=report["lufs"], true_peak_dbtp=report["true_peak_dbtp"])
    failures = gates.failures + rendition_failures(job.work["renditions"])
    if failures:
        code, reason = failures[0]
        raise Rejection(code, "; ".join(f"{c}: {r}" for c, r in failures))
    if not gates.passed:
        code, reason = gates.failures[0]
        raise Rejection(code, "; ".join(f"{c}: {r}" for c, r in gates.failures))
    return {"gates": _timed({"passed": True, "measurements": _plain(gates.measurements)}, started)}


def publish(job: GenerationJob) -> dict[str, Any]:
    from generation.services.publishing import track_publish

    track_publish(job=job)
    return {}


STAGES: dict[str, Callable[[GenerationJob], dict[str, Any]]] = {
    JobStatus.COMPOSING: compose,
    JobStatus.ARRANGING: arrange,
    JobStatus.RENDERING: render,
    JobStatus.MASTERING: master,
    JobStatus.ENCODING: encode,
    JobStatus.CHECKING: check,
    JobStatus.PUBLISHING: publish,
}
