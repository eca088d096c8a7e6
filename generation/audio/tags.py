"""Metadata written into every rendition: title, artist, licence, provenance, AI disclosure,
ReplayGain. One ``TrackTags`` value, three writers (Vorbis comments for FLAC/Ogg, ID3v2.4 for
MP3, MP4 atoms for M4A), all through mutagen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generation.audio import loudness

ARTIST = "Cadenza"
IPTC_TRAINED_ALGORITHMIC_MEDIA = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
)
REPLAYGAIN_REFERENCE_LUFS = -18.0  # ReplayGain 2.0


@dataclass(frozen=True)
class TrackTags:
    """What every rendition says about itself."""

    title: str
    licence_id: str  # e.g. "CC-BY-4.0" or "cadenza-personal-1.0"
    licence_url: str
    provenance_id: str
    generator_model: str
    generator_version: str
    artist: str = ARTIST


@dataclass(frozen=True)
class ReplayGain:
    track_gain_db: float
    track_peak: float  # linear, 4x true peak

    @property
    def gain_text(self) -> str:
        return f"{self.track_gain_db:+.2f} dB"

    @property
    def peak_text(self) -> str:
        return f"{self.track_peak:.6f}"


def replaygain(audio: np.ndarray, sample_rate: int) -> ReplayGain:
    """ReplayGain 2.0 track gain (to -18 LUFS) and true peak, from the audio itself."""
    lufs = loudness.integrated_loudness(audio, sample_rate)
    return ReplayGain(round(REPLAYGAIN_REFERENCE_LUFS - lufs, 2), loudness.true_peak(audio))


def fields(tags: TrackTags, rg: ReplayGain, encoder: str) -> dict[str, str]:
    """The tag set as upper-case Vorbis-comment style names."""
    return {
        "TITLE": tags.title,
        "ARTIST": tags.artist,
        "LICENSE": tags.licence_id,
        "LICENSE_URL": tags.licence_url,
        "COPYRIGHT": f"{tags.licence_id} {tags.licence_url}",
        "PROVENANCE_ID": tags.provenance_id,
        "DIGITAL_SOURCE_TYPE": IPTC_TRAINED_ALGORITHMIC_MEDIA,
        "AI_GENERATOR": tags.generator_model,
        "AI_GENERATOR_VERSION": tags.generator_version,
        "COMMENT": (
            f"AI-generated music: composed, arranged and rendered by {tags.generator_model} "
            f"{tags.generator_version} (IPTC trainedAlgorithmicMedia). "
            f"Provenance {tags.provenance_id}."
        ),
        "REPLAYGAIN_TRACK_GAIN": rg.gain_text,
        "REPLAYGAIN_TRACK_PEAK": rg.peak_text,
        "REPLAYGAIN_REFERENCE_LOUDNESS": f"{REPLAYGAIN_REFERENCE_LUFS:.2f} LUFS",
        "ENCODER_SETTINGS": encoder,
    }


def write_tags(path: Path, fmt: str, values: dict[str, str]) -> None:
    """Write ``values`` into the file at ``path`` (fmt: flac, ogg, mp3, m4a)."""
    if fmt in ("flac", "ogg"):
        from mutagen.flac import FLAC
        from mutagen.oggvorbis import OggVorbis

        f = FLAC(path) if fmt == "flac" else OggVorbis(path)
        for k, v in values.items():
            f[k] = v
        f.save()
    elif fmt == "mp3":
        _write_id3(path, values)
    elif fmt == "m4a":
        _write_mp4(path, values)
    else:
        raise ValueError(f"no tag writer for {fmt!r}")


_ID3_TEXT = {"TITLE": "TIT2", "ARTIST": "TPE1", "COPYRIGHT": "TCOP"}


def _write_id3(path: Path, values: dict[str, str]) -> None:
    from mutagen import id3

    try:
        tags = id3.ID3(path)
    except id3.ID3NoHeaderError:
        tags = id3.ID3()
    for k, v in values.items():
        if k in _ID3_TEXT:
            tags.add(getattr(id3, _ID3_TEXT[k])(encoding=3, text=v))
        elif k == "COMMENT":
            tags.add(id3.COMM(encoding=3, lang="eng", desc="", text=v))
        elif k == "LICENSE_URL":
            tags.add(id3.WCOP(url=v))
            tags.add(id3.TXXX(encoding=3, desc=k, text=v))
        else:
            # REPLAYGAIN_* in TXXX is the convention players read (foobar2000, mpv, …)
            tags.add(id3.TXXX(encoding=3, desc=k if not k.startswith("REPLAYGAIN") else k.lower(),
                              text=v))  # fmt: skip
    tags.save(path, v2_version=4)


_MP4_TEXT = {"TITLE": "\xa9nam", "ARTIST": "\xa9ART", "COPYRIGHT": "cprt", "COMMENT": "\xa9cmt"}


def _write_mp4(path: Path, values: dict[str, str]) -> None:
    from mutagen.mp4 import MP4, MP4FreeForm

    f = MP4(path)
    for k, v in values.items():
        if k in _MP4_TEXT:
            f[_MP4_TEXT[k]] = [v]
        name = k.lower() if k.startswith("REPLAYGAIN") else k
        f[f"----:com.apple.iTunes:{name}"] = [MP4FreeForm(v.encode())]
    f.save()


def read_tags(path: Path, fmt: str) -> dict[str, str]:
    """The tags of a rendition as upper-case names (for tests and the admin)."""
    import mutagen

    f = mutagen.File(path)
    out: dict[str, str] = {}
    if f is None or f.tags is None:
        return out
    if fmt in ("flac", "ogg"):
        return {k.upper(): v[0] for k, v in f.tags.items()}
    if fmt == "mp3":
        for frame in f.tags.values():
            if frame.FrameID == "TXXX":
                out[frame.desc.upper()] = str(frame.text[0])
            elif frame.FrameID == "WCOP":
                out["LICENSE_URL"] = frame.url
            elif frame.FrameID == "COMM":
                out["COMMENT"] = str(frame.text[0])
        for k, fid in _ID3_TEXT.items():
            if fid in f.tags:
                out[k] = str(f.tags[fid].text[0])
        return out
    for key, v in f.tags.items():
        if key.startswith("----:com.apple.iTunes:"):
            out[key.split(":")[-1].upper()] = bytes(v[0]).decode()
    for k, atom in _MP4_TEXT.items():
        if atom in f.tags:
            out[k] = str(f.tags[atom][0])
    return out
