"""Encode mastered audio into the renditions the app streams, tagged, as bytes.

The default set (``RENDITIONS``), argued for a mobile app (see README.md here):

* ``flac``  — FLAC 24-bit: the lossless master (archive, hi-fi tier, re-encoding later).
* ``aac-256`` / ``aac-128`` / ``aac-64`` — AAC-LC in M4A (``+faststart``): the three streaming
  tiers. AAC is hardware-decoded on every iOS and Android device and plays in every current
  browser, so one codec family covers Wi-Fi, normal, data-saver and offline downloads with no
  per-platform logic.

``EXTRA_RENDITIONS`` (``ALL_RENDITIONS`` = both) adds the issue's ``ogg-160`` (Ogg Vorbis, which
iOS cannot play and Android plays no better than AAC) and ``mp3-320`` (a download format for
outside the app). They work and are tested; they are off by default because together they cost
~6.5 s of CPU per 3-minute track (as much as the rest of the encoding) for no listener in the app.

AAC coder choice: ffmpeg's ``fast`` coder at 256 kbps, ``twoloop`` (the default) at 128 and 64.
FFmpeg's maintainer, making ``fast`` the default in 2018 (commit fcb681ac): "The twoloop coder
sounds decent at low bitrates, however at higher bitrates it sounds worse than the fast coder ...
and needs quite a lot more CPU" (256 kbps here: 4.3 s → 2.4 s for 195 s of audio). At 128 kbps
``fast`` lifted pink noise's 6–9 kHz band by 1.8 dB where ``twoloop`` stays within 0.5 dB, so the
standard tier keeps ``twoloop``.

ffmpeg encodes the lossy ones (its ``aac``, ``libvorbis``, ``libmp3lame``: LAME writes a Xing/LAME
header with the gapless delay, so decoders get the exact length back) in parallel processes;
libsndfile writes the FLAC in-process. Tags go in with mutagen (``tags.py``).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from generation.audio.tags import (
    REPLAYGAIN_REFERENCE_LUFS,
    ReplayGain,
    TrackTags,
    fields,
    replaygain,
    write_tags,
)


@dataclass(frozen=True)
class RenditionSpec:
    name: str
    format: str  # tag family: flac, m4a, ogg, mp3
    container: str
    codec: str
    bitrate_kbps: int | None
    mime_type: str
    extension: str
    ffmpeg_args: tuple[str, ...] = ()
    # (ceiling dBTP, target LUFS) of the master this rendition is first encoded from, when the
    # codec is known to overshoot the standard one (None: the standard master; see LOSSY_MASTER)
    first_master: tuple[float, float] | None = None


# The master the 128 and 64 kbps AAC tiers are first encoded from. AAC's error adds true peak
# that scales with the level it is given: over 14 two-minute tracks (7 styles x 2 seeds), from the
# standard master (-1.0 dBTP, -14 LUFS) AAC-128 peaked above -1.0 dBTP in 4 and AAC-64 in 6 (up to
# +0.40 dBTP), each a re-master and a second encode later. From (-2.0, -14.15) AAC-128 passed in
# all 14 (worst -1.17 dBTP) and AAC-64 in 11, at -14.15..-14.32 LUFS (from -14.25: 14 and 10, down
# to -14.42 LUFS, near the window's edge). Tracks whose limiter never engages (chamber, ambient,
# cinematic) come out the same, 0.15 dB quieter.
LOSSY_MASTER = (-2.0, -14.15)

ALL_RENDITIONS: tuple[RenditionSpec, ...] = (
    RenditionSpec("flac", "flac", "flac", "flac", None, "audio/flac", "flac"),
    RenditionSpec("aac-256", "m4a", "mp4", "aac-lc", 256, "audio/mp4", "m4a",
                  ("-c:a", "aac", "-aac_coder", "fast", "-b:a", "256k", "-movflags", "+faststart")),
    RenditionSpec("aac-128", "m4a", "mp4", "aac-lc", 128, "audio/mp4", "m4a",
                  ("-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"), LOSSY_MASTER),
    RenditionSpec("aac-64", "m4a", "mp4", "aac-lc", 64, "audio/mp4", "m4a",
                  ("-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"), LOSSY_MASTER),
    RenditionSpec("ogg-160", "ogg", "ogg", "vorbis", 160, "audio/ogg", "ogg",
                  ("-c:a", "libvorbis", "-b:a", "160k")),
    RenditionSpec("mp3-320", "mp3", "mp3", "mp3", 320, "audio/mpeg", "mp3",
                  ("-c:a", "libmp3lame", "-b:a", "320k", "-write_xing", "1")),
)  # fmt: skip
MOBILE = ("flac", "aac-256", "aac-128", "aac-64")
RENDITIONS: tuple[RenditionSpec, ...] = tuple(s for s in ALL_RENDITIONS if s.name in MOBILE)
EXTRA_RENDITIONS: tuple[RenditionSpec, ...] = tuple(
    s for s in ALL_RENDITIONS if s.name not in MOBILE
)


@dataclass(frozen=True)
class Rendition:
    """One encoded file, ready to store (content-addressed by ``sha256``)."""

    name: str
    format: str
    container: str
    codec: str
    bitrate_kbps: int | None
    mime_type: str
    extension: str
    data: bytes = field(repr=False)
    sha256: str
    size: int
    duration_s: float
    sample_rate: int
    encoder: dict
    decoded: dict = field(default_factory=dict)  # loudness and true peak of the file decoded

    def as_dict(self) -> dict:
        """Everything but the bytes (for provenance)."""
        return {k: v for k, v in self.__dict__.items() if k != "data"}


class EncodingError(RuntimeError):
    """An encoder failed; the message carries its stderr."""


def ffmpeg_binary() -> str:
    path = shutil.which("ffmpeg")
    if not path:
        raise EncodingError("ffmpeg is not installed (needed for AAC/M4A, Vorbis, MP3)")
    return path


def ffmpeg_version() -> str:
    out = subprocess.run([ffmpeg_binary(), "-version"], capture_output=True, text=True, check=False)
    return out.stdout.split("\n", 1)[0]


def _ffmpeg_encode(src: Path, dst: Path, spec: RenditionSpec) -> list[str]:
    cmd = [ffmpeg_binary(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-i", str(src), "-map_metadata", "-1", *spec.ffmpeg_args, str(dst)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise EncodingError(f"ffmpeg failed for {spec.name}: {proc.stderr.strip()[-500:]}")
    return cmd


def encode(
    audio: np.ndarray,
    sample_rate: int,
    *,
    tags: TrackTags,
    specs: tuple[RenditionSpec, ...] = RENDITIONS,
    workers: int = 2,
    measured: tuple[float, float] | None = None,
    measure_decoded: bool = False,
) -> list[Rendition]:
    """Every rendition of ``audio`` ((2, n) float32, mastered), tagged, in ``specs`` order.

    ``measured`` = (integrated LUFS, true peak dBTP) of this very audio, when the caller has just
    measured them (``MasterReport``); otherwise ReplayGain measures them here.
    ``measure_decoded`` decodes each rendition and measures it (``measure_encoded``, into
    ``decoded``) in the worker that encoded it, as soon as it is encoded: the FLAC's measurement
    then runs beside the slower AAC encodes instead of after all of them.
    """
    import soundfile as sf

    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[np.newaxis, :]
    if not np.isfinite(x).all():
        raise EncodingError("audio contains NaN or infinite samples")
    x = np.clip(x, -1.0, 1.0)
    if measured is not None:
        rg = ReplayGain(round(REPLAYGAIN_REFERENCE_LUFS - measured[0], 2), 10 ** (measured[1] / 20))
    else:
        rg = replaygain(x, sample_rate)
    duration = x.shape[1] / sample_rate
    with tempfile.TemporaryDirectory(prefix="cadenza-encode-") as tmp:
        tmpdir = Path(tmp)
        src = tmpdir / "master.wav"
        sf.write(src, x.T, sample_rate, subtype="FLOAT")

        def one(spec: RenditionSpec) -> Rendition:
            dst = tmpdir / f"{spec.name}.{spec.extension}"
            if spec.format == "flac":
                sf.write(dst, x.T, sample_rate, format="FLAC", subtype="PCM_24")
                settings = {"encoder": f"libsndfile {sf.__libsndfile_version__}",
                            "subtype": "PCM_24"}  # fmt: skip
            else:
                cmd = _ffmpeg_encode(src, dst, spec)
                settings = {"encoder": "ffmpeg", "args": list(spec.ffmpeg_args),
                            "command": " ".join(cmd[cmd.index("-map_metadata"):])}  # fmt: skip
            summary = ", ".join(f"{k}={v}" for k, v in settings.items() if k != "command")
            write_tags(dst, spec.format, fields(tags, rg, summary))
            data = dst.read_bytes()
            decoded = measure_encoded(data, spec.extension) if measure_decoded else {}
            return Rendition(
                name=spec.name,
                format=spec.format,
                container=spec.container,
                codec=spec.codec,
                bitrate_kbps=spec.bitrate_kbps,
                mime_type=spec.mime_type,
                extension=spec.extension,
                data=data,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                duration_s=duration,
                sample_rate=sample_rate,
                encoder={**settings, "replaygain_track_gain_db": rg.track_gain_db,
                         "replaygain_track_peak": rg.track_peak},  # fmt: skip
                decoded=decoded,
            )

        # the slowest encoders first, so the pool's tail is short
        order = sorted(specs, key=_encode_cost, reverse=True)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            done = dict(zip([s.name for s in order], pool.map(one, order), strict=True))
    return [done[s.name] for s in specs]


def _encode_cost(spec: RenditionSpec) -> float:
    """Relative encoding time (measured on a 3-minute master: FLAC 0.6 s; AAC ``twoloop`` 3.3 s
    at 128 kbps and 2.7 s at 64; AAC ``fast`` 1.9 s at 256; Vorbis and MP3 ~3 s each)."""
    if spec.format == "flac":
        return 0.6
    if "fast" in spec.ffmpeg_args:
        return 1.9
    return 3.0 + (spec.bitrate_kbps or 0) / 400


def decode(data: bytes, extension: str) -> tuple[np.ndarray, int]:
    """Decode a rendition back to (channels, n) float32 with ffmpeg (tests, checks)."""
    with tempfile.NamedTemporaryFile(suffix=f".{extension}") as f:
        f.write(data)
        f.flush()
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
             "stream=sample_rate,channels", "-of", "csv=p=0", f.name],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rate, channels = (int(v) for v in probe.stdout.strip().split(",")[:2])
        proc = subprocess.run(
            [ffmpeg_binary(), "-nostdin", "-v", "error", "-i", f.name, "-f", "f32le", "-"],
            capture_output=True, check=True,
        )
    pcm = np.frombuffer(proc.stdout, dtype=np.float32).reshape(-1, channels).T
    return pcm, rate


# ---------------------------------------------------------------- every rendition gated

TARGET_LUFS, LUFS_TOLERANCE, CEILING_DBTP = -14.0, 0.5, -1.0
REMASTER_MARGIN_DB = 0.3  # below the overshoot, so the next encode lands under the ceiling
TRIM_MARGIN_DB = 0.15  # a level trim's margin below the ceiling (the codec's error scales with it)
QUIETEST_TARGET_LUFS = TARGET_LUFS - LUFS_TOLERANCE + 0.1  # how far a trim may take the loudness
MAX_REMASTERS = 3
STANDARD_MASTER = (CEILING_DBTP, TARGET_LUFS)  # the master stage's (ceiling, target), every rendition's unless it asks for another


def measure_encoded(data: bytes, extension: str) -> dict:
    """Integrated loudness (LUFS) and 4x true peak (dBTP) of an encoded file, decoded."""
    from generation.audio import loudness

    if extension == "flac":
        import io

        import soundfile as sf

        pcm, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
        pcm = np.ascontiguousarray(pcm.T)
    else:
        pcm, rate = decode(data, extension)
    return {"lufs": round(float(loudness.integrated_loudness(pcm, rate)), 3),
            "true_peak_dbtp": round(float(loudness.true_peak_dbtp(pcm)), 3)}


def within_gates(m: dict) -> bool:
    return abs(m["lufs"] - TARGET_LUFS) <= LUFS_TOLERANCE and m["true_peak_dbtp"] <= CEILING_DBTP


def next_master(m: dict, ceiling: float, target: float) -> tuple[float, float]:
    """The (ceiling, target) to master again from, for a rendition measured ``m`` (decoded
    loudness and true peak) that missed the gates after a master with ``ceiling`` and ``target``.

    A lossy encode's overshoot is the codec's error on top of the master, and it scales with the
    level the codec is given; a lower limiter ceiling at the same loudness makes the master
    denser and the error larger. Measured on a 3-minute folk master: AAC-64 peaked at -0.72 dBTP
    from ceiling -1.0, at -0.47 from ceiling -2.0, and at -1.51 from target -14.4 LUFS. So the
    level comes down first, by the overshoot and a margin, as far as the loudness window allows
    (``QUIETEST_TARGET_LUFS``); only what the window cannot absorb lowers the ceiling (a
    limiter's ceiling moves the encoded peak by less than itself: step past it). A rendition that
    is only too quiet or too loud moves its target by the difference."""
    over = m["true_peak_dbtp"] - CEILING_DBTP
    if over <= 0:
        return ceiling, target + (TARGET_LUFS - m["lufs"])
    want = over + TRIM_MARGIN_DB
    room = m["lufs"] - QUIETEST_TARGET_LUFS
    if room >= want:
        return ceiling, target - want
    return ceiling - (1.5 * (want - max(room, 0.0)) + REMASTER_MARGIN_DB), target - room


def first_masters(specs: tuple[RenditionSpec, ...]) -> list[tuple[float, float]]:
    """The (ceiling, target) of every master other than the standard one that ``specs`` start from."""
    return sorted({s.first_master for s in specs if s.first_master not in (None, STANDARD_MASTER)})


def encode_checked(
    audio: np.ndarray,
    sample_rate: int,
    *,
    tags: TrackTags,
    remaster: Callable[[float, float], tuple[np.ndarray, tuple[float, float]]],
    specs: tuple[RenditionSpec, ...] = RENDITIONS,
    workers: int = 2,
    measured: tuple[float, float] | None = None,
    masters: dict[tuple[float, float], tuple[np.ndarray, tuple[float, float]]] | None = None,
) -> list[Rendition]:
    """Every rendition encoded, decoded and measured; one whose decoded loudness or true peak
    misses the gates (lossy encoders add up to ~1.5 dB of true peak, and a low bitrate's
    low-pass takes loudness away) is encoded again from ``remaster(ceiling_dbtp, target_lufs)``:
    the mix mastered again at the level and ceiling ``next_master`` chooses, up to
    ``MAX_REMASTERS`` times.

    ``audio`` is the standard master (``CEILING_DBTP``, ``TARGET_LUFS``; ``measured`` its
    loudness and true peak). A spec with a ``first_master`` starts from that master: from
    ``masters`` ((ceiling, target) → (audio, (LUFS, dBTP)), made by the master stage), else
    mastered here with ``remaster``, once for every spec that asks for it, beside the first
    encodes. ``workers`` renditions go through encode, measure and re-master at a time.
    Each rendition's ``decoded`` records what was measured and the master it came from:
    its ceiling and target, and ``master_from`` ("stage": the audio given, which the pipeline
    passes between stages as 24-bit FLAC; "encode": mastered here), which ``verify_track``
    masters again from; the gates read it."""
    given = {STANDARD_MASTER: (audio, measured), **(masters or {})}
    wanted = [key for key in first_masters(specs) if key not in given]
    with (
        ThreadPoolExecutor(max_workers=max(1, len(wanted))) as mastering,
        ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
    ):
        made = {key: mastering.submit(remaster, *key) for key in wanted}

        def one(spec: RenditionSpec) -> Rendition:
            ceiling, target = spec.first_master or STANDARD_MASTER
            if (ceiling, target) in given:
                (source, source_measured), origin = given[(ceiling, target)], "stage"
            else:
                (source, source_measured), origin = made[(ceiling, target)].result(), "encode"
            r = encode(source, sample_rate, tags=tags, specs=(spec,), workers=1, measured=source_measured,
                       measure_decoded=True)[0]
            m, rounds = r.decoded, 0
            while not within_gates(m) and rounds < MAX_REMASTERS:
                ceiling, target = next_master(m, ceiling, target)
                again, again_measured = remaster(ceiling, target)
                r = encode(again, sample_rate, tags=tags, specs=(spec,), workers=1, measured=again_measured,
                           measure_decoded=True)[0]
                m, rounds, origin = r.decoded, rounds + 1, "encode"
            # the ceiling and target exactly as the master was asked (not rounded): verify_track
            # masters again from them and must get the same samples
            return replace(r, decoded={**m, "master_ceiling_dbtp": ceiling, "master_target_lufs": target,
                                       "master_from": origin, "remasters": rounds, "passed": within_gates(m)})

        # the masters already made first, slowest encodes first; then those still being mastered
        order = sorted(specs, key=lambda s: ((s.first_master or STANDARD_MASTER) not in given, -_encode_cost(s)))
        done = dict(zip([s.name for s in order], pool.map(one, order), strict=True))
    return [done[s.name] for s in specs]
