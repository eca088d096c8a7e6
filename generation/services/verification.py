"""Verification: a track's MIDI regenerates from its provenance record, byte for byte."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings

from generation import pipeline
from generation.models import Track
from generation.services import publishing


def track_verify(*, track: Track) -> dict[str, Any]:
    """Compose again with the recorded checkpoint, vector, seed and sampling parameters; arrange
    again with the recorded style, seed and length; compare both MIDI sha256s."""
    from generation.audio.arrange import arrange
    from generation.model.compose import compose
    from generation.model.conditioning import Conditioning

    record = track.provenance.record
    sampling = record["sampling"]
    wanted = record["model"]["checkpoint_sha256"]
    bundle = pipeline.model_bundle_for(wanted)
    result: dict[str, Any] = {"track": str(track.id), "checkpoint_sha256_match": bundle is not None}
    if bundle is None:
        result.update(midi_sha256_match=False, reason=(
            f"checkpoint {wanted} is neither the configured one nor in CADENZA_CHECKPOINT_ARCHIVE "
            f"({settings.CADENZA_CHECKPOINT_ARCHIVE}/{wanted}.pt)"))
        return result
    piece = compose(
        bundle,
        Conditioning.from_vector(record["conditioning"]["vector"]),
        seed=sampling["seed"],
        temperature=sampling["temperature"],
        top_p=sampling["top_p"],
        guidance=sampling["guidance"],
        n_candidates=sampling["n_candidates"],
        key_transpose=sampling["key_transpose"],
        threads=sampling["threads"],
        weights=sampling.get("weights", "fp16"),
    )
    composed = hashlib.sha256(piece.midi_bytes).hexdigest()
    cond = Conditioning.from_vector(record["conditioning"]["vector"])
    arranged = arrange(
        piece.midi,
        record["arrangement"]["style"],
        seed=record["seed"],
        length_s=record["arrangement"]["length_s"],
        avoid_instruments=record["request"]["avoid_instruments"],
        tempo_bpm=cond.tempo_bpm,
        key=(cond.key_tonic, cond.mode),
    )
    arranged_sha = hashlib.sha256(pipeline.midi_to_bytes(arranged)).hexdigest()
    result.update(
        composed_sha256=composed,
        recorded_composed_sha256=record["midi"]["composed_sha256"],
        arranged_sha256=arranged_sha,
        recorded_arranged_sha256=record["midi"]["arranged_sha256"],
    )
    result["midi_sha256_match"] = (
        composed == record["midi"]["composed_sha256"] and arranged_sha == record["midi"]["arranged_sha256"]
    )
    if not result["midi_sha256_match"] and record.get("code_version") != publishing.code_version():
        result["reason"] = (f"made by code {record.get('code_version')}, verified with "
                            f"{publishing.code_version()}: the sampler or arranger may have changed")
    return result
