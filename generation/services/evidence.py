"""Evidence a reviewer weighs, measured on demand from what is stored, and cached.

- ``rendition_loudness``: integrated loudness and true peak of every stored rendition, decoded
  as a listener's device would (recorded figures are used when publishing kept them). Cached by
  the rendition's sha256: the object is content-addressed, so the figures never change.
- ``originality_evidence``: where the track's melody follows its nearest known piece, and a
  picture of both melodies (``generation.evidence.passage``). Cached per track and index.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from generation import objects
from generation.models import Track

log = logging.getLogger(__name__)
FOREVER = 60 * 60 * 24 * 30


@dataclass(frozen=True)
class RenditionLoudness:
    format: str
    bitrate_kbps: int | None
    lufs: float | None
    true_peak_dbtp: float | None
    source: str  # "recorded at publish", "measured on the stored file", or why there is no figure


def rendition_loudness(*, track: Track) -> list[RenditionLoudness]:
    """Loudness and true peak per rendition of ``track`` (from its record, else measured now)."""
    recorded = {r.get("format"): r for r in (getattr(track, "provenance", None) and
                                             track.provenance.record.get("renditions", []) or [])}
    return [_one_loudness(rendition, recorded.get(rendition.format, {})) for rendition in track.renditions.all()]


def _one_loudness(rendition, recorded: dict[str, Any]) -> RenditionLoudness:
    figures = recorded.get("loudness") or recorded
    if figures.get("lufs") is not None and figures.get("true_peak_dbtp") is not None:
        return RenditionLoudness(rendition.format, rendition.bitrate_kbps, figures["lufs"],
                                 figures["true_peak_dbtp"], "recorded at publish")
    key = f"review:loudness:{rendition.sha256}"
    cached = cache.get(key)
    if cached is None:
        cached = _measure(rendition)
        if cached.get("lufs") is not None:
            cache.set(key, cached, FOREVER)
    return RenditionLoudness(rendition.format, rendition.bitrate_kbps, cached.get("lufs"),
                             cached.get("true_peak_dbtp"), cached["source"])


def _measure(rendition) -> dict[str, Any]:
    from generation.audio import loudness
    from generation.audio.encode import decode

    if not objects.object_exists(rendition.key):
        return {"source": "file missing from storage"}
    extension = rendition.key.rsplit(".", 1)[-1]
    try:
        audio, rate = decode(objects.read_object(rendition.key), extension)
        stats = loudness.measure(audio, rate, with_lra=False)
    except Exception as error:  # noqa: BLE001 - a file that will not decode is evidence, not a crash
        log.warning("could not measure %s: %s", rendition.key, error)
        return {"source": f"could not decode: {type(error).__name__}"}
    return {"lufs": stats.as_dict()["lufs"], "true_peak_dbtp": stats.as_dict()["true_peak_dbtp"],
            "source": "measured on the stored file"}


@dataclass(frozen=True)
class OriginalityEvidence:
    verdict: str | None
    longest_match_notes: int | None
    nearest_piece: str | None
    first_bar: int | None = None
    last_bar: int | None = None
    part: str | None = None
    png: bytes | None = None
    note: str = ""  # why there is no passage, or from which MIDI it was found


def originality_evidence(*, track: Track) -> OriginalityEvidence:
    """The originality verdict with the matching passage (bars, part) and a picture of both melodies."""
    from generation.model.originality import DEFAULT_INDEX

    record = getattr(track, "provenance", None)
    originality = record.record.get("originality", {}) if record else {}
    base = OriginalityEvidence(originality.get("verdict"), originality.get("longest_match_notes"),
                               originality.get("nearest_piece"))
    key = f"review:passage:{track.id}:{DEFAULT_INDEX.stat().st_mtime_ns}"
    cached = cache.get(key)
    if cached is None:
        cached = _passage(track, base)
        cache.set(key, cached, FOREVER)
    return cached


def _passage(track: Track, base: OriginalityEvidence) -> OriginalityEvidence:
    from dataclasses import replace

    from generation import pipeline
    from generation.evidence.passage import matching_passage, passage_png, piece_melodies
    from generation.model.originality import load_index

    if not base.nearest_piece:
        return replace(base, note="no known piece shares five or more notes in a row with this track")
    index = load_index()
    if base.nearest_piece not in index.names:
        return replace(base, note=f"{base.nearest_piece} is not in the current originality index")
    composed = (track.job.work.get("composition", {}).get("midi_key") if track.job else None) or ""
    midi_key, which = (composed, "composed") if composed and objects.object_exists(composed) else (
        track.midi_key, "arranged")
    if not midi_key or not objects.object_exists(midi_key):
        return replace(base, note="the track's MIDI is no longer stored")
    midi = pipeline.midi_from_bytes(objects.read_object(midi_key))
    known = piece_melodies(index.seq, index.owner, index.names.index(base.nearest_piece))
    passage = matching_passage(midi, known)
    if passage is None:
        return replace(base, note=f"no shared passage found in the {which} MIDI")
    png = passage_png(passage, known_name=base.nearest_piece, downbeats=midi.get_downbeats())
    return replace(base, first_bar=passage.first_bar, last_bar=passage.last_bar, part=passage.part, png=png,
                   note=f"found in the {which} MIDI ({passage.notes} notes)")
