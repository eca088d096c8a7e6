"""Verification: a track's MIDI regenerates from its provenance record, byte for byte."""

from __future__ import annotations

import hashlib
from typing import Any

from generation import pipeline
from generation.models import Track


def track_verify(*, track: Track) -> dict[str, Any]:
    """Compose again with the recorded checkpoint, vector, seed and sampling parameters; arrange
    again with the recorded style, seed and length; compare both MIDI sha256s."""
    from generation.audio.arrange import arrange
    from generation.model.compose import compose
    from generation.model.conditioning import Conditioning

    record = track.provenance.record
    bundle = pipeline.model_bundle()
    sampling = record["sampling"]
    result: dict[str, Any] = {"track": str(track.id), "checkpoint_sha256_match": bundle.checkpoint_sha256 == record["model"]["checkpoint_sha256"]}
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
    )
    composed = hashlib.sha256(piece.midi_bytes).hexdigest()
    arranged = arrange(
        piece.midi,
        record["arrangement"]["style"],
        seed=record["seed"],
        length_s=record["arrangement"]["length_s"],
        avoid_instruments=record["request"]["avoid_instruments"],
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
    return result
