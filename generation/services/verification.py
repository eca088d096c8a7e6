"""Verification: a track's MIDI regenerates from its provenance record, byte for byte."""

from __future__ import annotations

import hashlib
from typing import Any

from generation import pipeline
from generation.models import Track
from generation.services import publishing


def track_verify(*, track: Track, audio: bool = False) -> dict[str, Any]:
    """Compose again with the recorded checkpoint, vector, seed and sampling parameters; arrange
    again with the recorded style, seed and length; compare both MIDI sha256s. With ``audio``,
    also render, mix, master and encode again and compare every rendition's decoded PCM."""
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
            f"checkpoint {wanted} is neither the configured one nor retired as {wanted}.pt in "
            + " or ".join(str(f) for f in pipeline.retired_checkpoint_folders())))
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
        plan=sampling.get("plan"),  # tracks from before form plans decode without one
        too_close=sampling.get("too_close_candidates"),  # the choice as made, whatever the index is now
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
        version=record["arrangement"].get("version", 1),  # tracks from before arranger versions: 1
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
    if audio:
        result["renditions"] = renditions_verify(record=record, arranged=arranged)
        result["audio_match"] = bool(result["renditions"]) and all(r["pcm_match"] for r in result["renditions"])
    if not result["midi_sha256_match"] and record.get("code_version") != publishing.code_version():
        result["reason"] = (f"made by code {record.get('code_version')}, verified with "
                            f"{publishing.code_version()}: the sampler or arranger may have changed")
    return result


def renditions_verify(*, record: dict[str, Any], arranged) -> list[dict[str, Any]]:
    """Render, mix, master and encode the arrangement again as the stages did (the mix and the
    master pass between stages as 24-bit FLAC; a rendition from another master uses its recorded ceiling
    and target) and compare each rendition's decoded PCM with the stored file's, sample for sample."""
    import numpy as np

    from generation import objects
    from generation.audio.encode import ALL_RENDITIONS, CEILING_DBTP, TARGET_LUFS, decode, encode
    from generation.audio.master import master
    from generation.audio.pipeline import render_and_mix
    from generation.audio.styles import get_style
    from generation.audio.tags import TrackTags

    style, length_s = record["arrangement"]["style"], record["arrangement"]["length_s"]
    brightness = get_style(style).brightness_db
    arranged = pipeline.midi_from_bytes(pipeline.midi_to_bytes(arranged))  # as the render stage reads it
    mixed, _ = render_and_mix(arranged, style=style, soundfont=pipeline.soundfont(),
                              sample_rate=pipeline.SAMPLE_RATE, length_s=length_s)
    mixed, rate = pipeline.audio_from_bytes(pipeline.audio_to_flac(mixed))
    mastered, _ = master(mixed, rate, brightness_db=brightness, measure_input=False)
    mastered, _ = pipeline.audio_from_bytes(pipeline.audio_to_flac(mastered, rate))
    tags = TrackTags(title="verify", licence_id="verify", licence_url="", provenance_id=record["provenance_id"],
                     generator_model="verify", generator_version="verify")
    specs = {s.name: s for s in ALL_RENDITIONS}
    # (ceiling, target, from the master stage?) -> that master; the master stage's pass to the
    # encode stage as 24-bit FLAC, the encode stage's own (re-masters) do not
    sources = {(CEILING_DBTP, TARGET_LUFS, True): mastered}
    out = []
    for stored in record["renditions"]:
        decoded = stored.get("decoded") or {}
        # records before "master_from": every first encode was of a stage's master
        from_stage = decoded.get("master_from", "encode" if decoded.get("remasters") else "stage") == "stage"
        key = (decoded.get("master_ceiling_dbtp", CEILING_DBTP), decoded.get("master_target_lufs", TARGET_LUFS),
               from_stage)
        if key not in sources:  # made once for every rendition that came from it (AAC-128 and AAC-64)
            again, _ = master(mixed, rate, brightness_db=brightness, measure_input=False,
                              ceiling_dbtp=key[0], target_lufs=key[1])
            sources[key] = pipeline.audio_from_bytes(pipeline.audio_to_flac(again, rate))[0] if from_stage else again
        source = sources[key]
        spec = specs[stored["format"]]
        again = encode(source, rate, tags=tags, specs=(spec,), workers=1)[0]
        ours, _ = decode(again.data, spec.extension)
        theirs, _ = decode(objects.read_object(stored["key"]), spec.extension)
        out.append({"format": stored["format"], "samples": int(theirs.shape[-1]),
                    "pcm_match": ours.shape == theirs.shape and bool(np.array_equal(ours, theirs))})
    return out
