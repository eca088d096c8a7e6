"""Master any audio file a user hands us.

    python -m generation.audio.master_file IN OUT --json

Reads wav/flac/mp3/ogg/aiff (libsndfile, then pedalboard) or anything ffmpeg decodes; mono or stereo; any sample
rate (kept: the output has the input's rate, mono becomes dual-mono stereo). Writes OUT by its
extension (wav/flac 24-bit, or mp3/ogg/m4a through ffmpeg) and prints
``{"input": {"lufs", "true_peak_dbtp"}, "output": {"lufs", "true_peak_dbtp", "lra"}}`` measured
on the file actually written (decoded back). A lossy OUT whose decoded true peak overshoots the
ceiling is mastered again with the ceiling lowered by the overshoot.
``python manage.py master_file`` is a thin wrapper around ``master_path``.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from generation.audio import loudness
from generation.audio.encode import decode, ffmpeg_binary
from generation.audio.master import MasteringError, master

LOSSY = {".mp3": ("-c:a", "libmp3lame", "-b:a", "320k"),
         ".ogg": ("-c:a", "libvorbis", "-b:a", "160k"),
         ".m4a": ("-c:a", "aac", "-b:a", "256k", "-movflags", "+faststart")}  # fmt: skip
LOSSLESS = {".wav": "WAV", ".flac": "FLAC"}


class InputError(ValueError):
    """The input cannot be read or mastered; the message says why."""


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """(channels, n) float32 and the sample rate; InputError if it cannot be decoded."""
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    try:  # libsndfile first: it reads MP3 without the encoder padding pedalboard keeps
        import soundfile as sf

        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        return np.ascontiguousarray(data.T), int(rate)
    except Exception:  # not a format libsndfile reads
        pass
    try:
        from pedalboard.io import AudioFile

        with AudioFile(str(path)) as f:
            return f.read(f.frames).astype(np.float32), int(round(f.samplerate))
    except Exception:  # nor pedalboard: let ffmpeg try
        pass
    try:
        return decode(path.read_bytes(), path.suffix.lstrip(".") or "bin")
    except (subprocess.CalledProcessError, ValueError) as exc:
        raise InputError(f"cannot decode {path.name}: not a supported audio file") from exc


def write_audio(path: Path, audio: np.ndarray, rate: int) -> None:
    import soundfile as sf

    ext = path.suffix.lower()
    if ext in LOSSLESS:
        sf.write(path, audio.T, rate, format=LOSSLESS[ext], subtype="PCM_24")
    elif ext in LOSSY:
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            sf.write(tmp.name, audio.T, rate, subtype="FLOAT")
            proc = subprocess.run(
                [ffmpeg_binary(), "-nostdin", "-v", "error", "-y", "-i", tmp.name, *LOSSY[ext],
                 str(path)], capture_output=True, text=True, check=False,
            )  # fmt: skip
            if proc.returncode:
                raise InputError(f"ffmpeg could not write {path.name}: {proc.stderr.strip()}")
    else:
        raise InputError(f"unsupported output format {ext!r}; use one of "
                         f"{', '.join(sorted([*LOSSLESS, *LOSSY]))}")  # fmt: skip


def _r(v: float) -> float | None:
    return round(v, 2) if math.isfinite(v) else None


def master_path(src: Path, dst: Path, *, target_lufs: float = -14.0,
                ceiling_dbtp: float = -1.0) -> dict:  # fmt: skip
    """Master ``src`` into ``dst``; the measured report (InputError with a reason on failure)."""
    audio, rate = read_audio(Path(src))
    if audio.size == 0:
        raise InputError(f"{Path(src).name} contains no audio")
    ceiling = ceiling_dbtp
    for _ in range(3):
        try:
            out, report = master(audio, rate, target_lufs=target_lufs, ceiling_dbtp=ceiling)
        except MasteringError as exc:
            raise InputError(f"cannot master {Path(src).name}: {exc}") from exc
        write_audio(Path(dst), out, rate)
        written, wrate = read_audio(Path(dst))
        tp = loudness.true_peak_dbtp(written)
        if tp <= ceiling_dbtp + 0.005:
            break
        ceiling -= tp - ceiling_dbtp + 0.1  # the lossy codec overshot: master lower, once more
    return {
        "input": {"lufs": _r(report.input_lufs), "true_peak_dbtp": _r(report.input_true_peak_dbtp),
                  "sample_rate": rate, "channels": int(audio.shape[0]),
                  "duration_s": round(audio.shape[1] / rate, 3)},
        "output": {"lufs": _r(loudness.integrated_loudness(written, wrate)),
                   "true_peak_dbtp": _r(tp), "lra": _r(loudness.loudness_range(written, wrate)),
                   "sample_rate": wrate, "channels": int(written.shape[0]), "path": str(dst)},
        "chain": report.chain,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Master an audio file to -14 LUFS, -1 dBTP.")
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--target-lufs", type=float, default=-14.0)
    parser.add_argument("--ceiling-dbtp", type=float, default=-1.0)
    args = parser.parse_args(argv)
    try:
        report = master_path(args.input, args.output, target_lufs=args.target_lufs,
                             ceiling_dbtp=args.ceiling_dbtp)  # fmt: skip
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({k: report[k] for k in ("input", "output")}))
    else:
        i, o = report["input"], report["output"]
        print(f"{args.input} ({i['lufs']} LUFS, {i['true_peak_dbtp']} dBTP) -> {args.output} "
              f"({o['lufs']} LUFS, {o['true_peak_dbtp']} dBTP, LRA {o['lra']} LU)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
