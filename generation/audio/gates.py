"""Quality gates: reasons a mastered track must not be published.

``run_gates(audio, sample_rate, requested_duration_s=...)`` measures once and reports every
failure as ``(code, reason)``; ``passed`` is true only when there are none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from generation.audio import loudness

SILENCE_DBFS = -90.0  # "digital silence": every sample of every channel below this
MAX_SILENCE_S = 2.0
CLIP_LEVEL = 0.999  # |sample| at or above this counts as a clipped sample
CLIP_RUN = 3  # this many consecutive clipped samples is a clip
TARGET_LUFS = -14.0
LUFS_TOLERANCE = 0.5
CEILING_DBTP = -1.0
DURATION_TOLERANCE = 0.05

SILENCE, CLIPPING, LOUDNESS, TRUE_PEAK, DURATION, INVALID = (
    "silence", "clipping", "loudness", "true_peak", "duration", "invalid",
)  # fmt: skip


@dataclass(frozen=True)
class GateReport:
    passed: bool
    failures: list[tuple[str, str]]
    measurements: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"passed": self.passed, "failures": [list(f) for f in self.failures],
                "measurements": self.measurements}  # fmt: skip


def longest_silence(audio: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """(length s, start s) of the longest run of digital silence (all channels)."""
    x = loudness.as_channels(audio)
    quiet = np.max(np.abs(x), axis=0) < 10 ** (SILENCE_DBFS / 20)
    if not quiet.any():
        return 0.0, 0.0
    padded = np.concatenate([[False], quiet, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    i = int(np.argmax(stops - starts))
    return (stops[i] - starts[i]) / sample_rate, starts[i] / sample_rate


def clipped_runs(audio: np.ndarray) -> int:
    """How many runs of ``CLIP_RUN``+ consecutive samples sit at full scale (per channel)."""
    x = loudness.as_channels(audio)
    total = 0
    for ch in x:
        hot = np.abs(ch) >= CLIP_LEVEL
        if not hot.any():
            continue
        padded = np.concatenate([[0], hot.astype(np.int8), [0]])
        edges = np.diff(padded)
        lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        total += int(np.count_nonzero(lengths >= CLIP_RUN))
    return total


def run_gates(
    audio: np.ndarray,
    sample_rate: int,
    *,
    requested_duration_s: float,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
    lufs: float | None = None,
    true_peak_dbtp: float | None = None,
) -> GateReport:
    """Check a mastered track; every failing gate gives a reason.

    ``lufs`` / ``true_peak_dbtp`` may be passed when they were just measured on this very array
    (``MasterReport``) to skip measuring them again; otherwise they are measured here.
    """
    x = loudness.as_channels(np.asarray(audio))
    failures: list[tuple[str, str]] = []
    duration = x.shape[1] / sample_rate
    m: dict = {"duration_s": round(duration, 3), "requested_duration_s": requested_duration_s}
    if x.shape[1] == 0 or not np.isfinite(x).all():
        failures.append((INVALID, "audio is empty or contains NaN/infinite samples"))
        return GateReport(False, failures, m)

    silence_s, at_s = longest_silence(x, sample_rate)
    m["longest_silence_s"] = round(silence_s, 3)
    if silence_s > MAX_SILENCE_S:
        failures.append((SILENCE, f"{silence_s:.1f} s of digital silence from {at_s:.1f} s "
                                  f"(limit {MAX_SILENCE_S:.0f} s)"))  # fmt: skip

    clips = clipped_runs(x)
    peak = float(np.max(np.abs(x)))
    m["clipped_runs"], m["sample_peak_dbfs"] = clips, round(loudness.db(peak), 2)
    if clips or peak > 1.0:
        failures.append((CLIPPING, f"{clips} run(s) of {CLIP_RUN}+ samples at full scale, "
                                   f"sample peak {loudness.db(peak):+.2f} dBFS"))  # fmt: skip

    if lufs is None:
        lufs = loudness.integrated_loudness(x, sample_rate) if duration >= 0.4 else -math.inf
    m["lufs"] = round(lufs, 2) if math.isfinite(lufs) else None
    if not math.isfinite(lufs) or abs(lufs - target_lufs) > LUFS_TOLERANCE:
        shown = f"{lufs:.2f} LUFS" if math.isfinite(lufs) else "silent"
        failures.append((LOUDNESS, f"integrated loudness {shown}, want {target_lufs:.1f} "
                                   f"± {LUFS_TOLERANCE} LUFS"))  # fmt: skip

    tp = loudness.true_peak_dbtp(x) if true_peak_dbtp is None else true_peak_dbtp
    m["true_peak_dbtp"] = round(tp, 2) if math.isfinite(tp) else None
    if tp > ceiling_dbtp + 0.005:
        failures.append((TRUE_PEAK, f"true peak {tp:+.2f} dBTP exceeds {ceiling_dbtp:+.1f} dBTP"))

    off = abs(duration - requested_duration_s) / requested_duration_s
    m["duration_error"] = round(off, 4)
    if off > DURATION_TOLERANCE:
        failures.append((DURATION, f"duration {duration:.1f} s is {off:.1%} off the requested "
                                   f"{requested_duration_s:.1f} s (limit 5%)"))  # fmt: skip
    return GateReport(not failures, failures, m)
