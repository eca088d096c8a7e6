"""Mix stems into a stereo bus with pedalboard: gain staging, per-stem EQ, pan, a shared reverb.

``mix_plan(stem_names, style=...)`` decides every parameter from the stem names (which carry the
arranger's role: ``00-melody_violin``, ``04-drums``) and the style; it is plain data, recorded in
provenance (``MixPlan.as_dict()``). ``mix(stems, style=..., sample_rate=...)`` applies it:

1. each stem is levelled to a reference RMS over its active part (so a quiet GM preset does not
   vanish), clamped to ±18 dB, then given its role gain;
2. per-stem high-pass and EQ (pedalboard), constant-power pan;
3. a post-fader, pre-EQ send from every stem to one reverb bus (pedalboard ``Reverb``, fully
   wet, after a 250 Hz high-pass; its damping rolls off the highs), processed while the stems
   are equalised (pedalboard releases the GIL: two threads);
4. the bus is scaled so its sample peak sits at ``MIX_PEAK_DBFS``: nothing clips before the master.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np

from generation.audio.styles import BASS, CHORDS, COUNTER, MELODY, PAD, get_style

REFERENCE_RMS_DBFS = -20.0
LEVEL_CLAMP_DB = 18.0
MIX_PEAK_DBFS = -6.0
END_FADE_S = 1.5
DRUMS_ROLE = "drums"

# role → (high-pass Hz or None, [(kind, freq Hz, gain dB, q)]): one corrective band per role.
# Bass and drums need no high-pass of their own (the master's 25 Hz high-pass does it); a
# pedalboard filter costs ~0.08 s per 3-minute channel, so the mix keeps
# to the band that matters for each role.
ROLE_EQ: dict[str, tuple[float | None, list[tuple[str, float, float, float]]]] = {
    MELODY: (120.0, [("peak", 2500.0, 1.5, 0.9)]),  # presence
    COUNTER: (150.0, [("peak", 3000.0, -1.5, 0.8)]),  # out of the melody's presence band
    CHORDS: (110.0, [("peak", 400.0, -2.0, 0.9)]),  # de-mud
    PAD: (90.0, [("peak", 500.0, -2.5, 0.8)]),  # de-mud
    BASS: (None, [("high_shelf", 3000.0, -3.0, 0.7)]),  # string and key clank
    DRUMS_ROLE: (None, [("peak", 450.0, -2.0, 1.0)]),  # boxiness
}


@dataclass(frozen=True)
class StemSettings:
    """How one stem enters the mix."""

    name: str
    role: str
    gain_db: float
    pan: float
    highpass_hz: float | None
    eq: tuple[tuple[str, float, float, float], ...]
    reverb_send: float


@dataclass(frozen=True)
class MixPlan:
    """Every parameter of a mix (provenance: "mix chain with parameters")."""

    style: str
    reference_rms_dbfs: float
    level_clamp_db: float
    stems: tuple[StemSettings, ...]
    reverb: dict = field(default_factory=dict)
    bus_peak_dbfs: float = MIX_PEAK_DBFS

    def as_dict(self) -> dict:
        return asdict(self)


def stem_role(name: str) -> str:
    """The arranger role encoded in a stem name (``00-melody_violin`` → ``melody``)."""
    label = name.split("-", 1)[-1]
    head = label.split("_", 1)[0].rstrip(":")
    if head in ROLE_EQ:
        return head
    return DRUMS_ROLE if "drum" in label else CHORDS


def mix_plan(stem_names: list[str], *, style: str) -> MixPlan:
    """The mix settings for these stems in ``style``."""
    st = get_style(style)
    by_role = {p.role: p for p in st.parts}
    settings = []
    seen_pans: dict[str, int] = {}
    for name in stem_names:
        role = stem_role(name)
        part = by_role.get(role)
        if role == DRUMS_ROLE:
            gain, pan, send = st.drum_gain_db, 0.0, 0.5
        elif part is not None:
            gain, pan, send = part.gain_db, part.pan, part.reverb_send
        else:
            gain, pan, send = -4.0, 0.0, 1.0
        k = seen_pans.get(role, 0)  # a second stem of the same role goes to the other side
        seen_pans[role] = k + 1
        if k:
            pan = -pan if pan else 0.3 * (-1) ** k
        hp, eq = ROLE_EQ[role]
        settings.append(StemSettings(name, role, gain, pan, hp, tuple(eq), send))
    reverb = {
        "room_size": st.reverb_room,
        "damping": 0.5,
        "width": 1.0,
        "return_level": st.reverb,
        "pre_highpass_hz": 250.0,
    }
    return MixPlan(style, REFERENCE_RMS_DBFS, LEVEL_CLAMP_DB, tuple(settings), reverb)


def _eq_board(s: StemSettings):
    from pedalboard import HighpassFilter, HighShelfFilter, LowShelfFilter, PeakFilter, Pedalboard

    plugins = [] if s.highpass_hz is None else [HighpassFilter(cutoff_frequency_hz=s.highpass_hz)]
    for kind, freq, gain, q in s.eq:
        cls = {"peak": PeakFilter, "low_shelf": LowShelfFilter, "high_shelf": HighShelfFilter}[kind]
        plugins.append(cls(cutoff_frequency_hz=freq, gain_db=gain, q=q))
    return Pedalboard(plugins)


def active_rms_db(audio: np.ndarray, sample_rate: int) -> float:
    """RMS in dBFS over the 50 ms windows within 40 dB of the loudest (the stem's playing part)."""
    x = audio if audio.ndim == 2 else audio[np.newaxis, :]
    win = max(1, int(0.05 * sample_rate))
    n = (x.shape[1] // win) * win
    if n == 0:
        return -math.inf
    squares = np.square(x[:, :n], dtype=np.float32).reshape(x.shape[0], n // win, win)
    power = squares.sum(axis=(0, 2), dtype=np.float64) / (x.shape[0] * win)
    if power.max() <= 0:
        return -math.inf
    active = power >= power.max() * 1e-4
    return 10 * math.log10(float(power[active].mean()))


def _pan_gains(pan: float) -> tuple[float, float]:
    theta = (pan + 1.0) * math.pi / 4.0  # constant power, 0 dB sum at centre (-3 dB each side)
    return math.cos(theta) * math.sqrt(2), math.sin(theta) * math.sqrt(2)


def mix(stems: dict[str, np.ndarray], *, style: str, sample_rate: int,
        length_s: float | None = None) -> np.ndarray:  # fmt: skip
    """A stereo float32 ``(2, n)`` mix of ``stems`` with peaks at ``MIX_PEAK_DBFS``."""
    return mix_with_plan(stems, style=style, sample_rate=sample_rate, length_s=length_s)[0]


def fit_length(audio: np.ndarray, sample_rate: int, length_s: float,
               fade_s: float = END_FADE_S) -> np.ndarray:  # fmt: skip
    """Cut or pad ``audio`` to exactly ``length_s`` and fade the last ``fade_s`` out (cosine)."""
    n = int(round(length_s * sample_rate))
    x = audio[:, :n]
    if x.shape[1] < n:
        x = np.pad(x, ((0, 0), (0, n - x.shape[1])))
    x = np.array(x, dtype=np.float32)
    k = min(n, int(fade_s * sample_rate))
    if k:
        x[:, n - k:] *= (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, k))).astype(np.float32)
    return x


class MixBus:
    """A mix being built: stems are added as they arrive (each one's EQ runs on a worker thread
    while the caller renders the next), ``finish`` adds the reverb return and sets the level.

    With ``n`` samples fixed up front, stems are cut or padded to it: EQ and reverb are causal,
    so cutting their input at the track's end changes nothing before it.
    """

    def __init__(self, plan: MixPlan, *, sample_rate: int, n: int, workers: int = 2):
        self.plan, self.sample_rate, self.n = plan, sample_rate, n
        self._settings = {s.name: s for s in plan.stems}
        self._send = np.zeros((2, n), dtype=np.float32)
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers))
        self._strips: list = []

    def add(self, name: str, audio: np.ndarray) -> None:
        s = self._settings[name]
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim == 1:
            x = np.stack([x, x])
        x = x[:, : self.n]
        if x.shape[1] < self.n:
            x = np.pad(x, ((0, 0), (0, self.n - x.shape[1])))
        level = active_rms_db(x, self.sample_rate)
        if not math.isfinite(level):
            return  # a silent stem (every note out of the preset's range, say)
        clamp = self.plan.level_clamp_db
        trim = float(np.clip(self.plan.reference_rms_dbfs - level, -clamp, clamp))
        g = 10 ** ((trim + s.gain_db) / 20)
        # post-fader, pre-EQ send
        self._send += np.multiply(x, np.float32(g * s.reverb_send), dtype=np.float32)
        self._strips.append(self._pool.submit(self._strip, s, x, g))

    def _strip(self, s: StemSettings, x: np.ndarray, g: float) -> np.ndarray:
        processed = _eq_board(s)(x, self.sample_rate)  # pedalboard releases the GIL
        left, right = _pan_gains(s.pan)
        processed[0] *= np.float32(g * left)
        processed[1] *= np.float32(g * right)
        return processed

    def finish(self, length_s: float | None = None) -> np.ndarray:
        from pedalboard import HighpassFilter, Pedalboard, Reverb

        r = self.plan.reverb
        reverb = Pedalboard([
            HighpassFilter(cutoff_frequency_hz=r["pre_highpass_hz"]),
            Reverb(room_size=r["room_size"], damping=r["damping"], width=r["width"],
                   wet_level=1.0, dry_level=0.0),
        ])  # fmt: skip
        try:
            wet = self._pool.submit(reverb, self._send, self.sample_rate)
            bus = np.zeros((2, self.n), dtype=np.float32)
            for future in self._strips:
                bus += future.result()
            bus += wet.result() * np.float32(r["return_level"])
        finally:
            self._pool.shutdown(wait=True)
        if length_s is not None:
            bus = fit_length(bus, self.sample_rate, length_s)
        peak = float(np.max(np.abs(bus)))
        if peak > 0:
            bus *= np.float32(10 ** (self.plan.bus_peak_dbfs / 20) / peak)
        return bus


def mix_with_plan(
    stems: dict[str, np.ndarray],
    *,
    style: str,
    sample_rate: int,
    workers: int = 2,
    length_s: float | None = None,
) -> tuple[np.ndarray, MixPlan]:
    """The mix and the plan it followed.

    With ``length_s`` the mix is cut (or padded) to exactly that length with a 1.5 s cosine
    fade-out over FluidSynth's release tail (``fit_length``): pass the requested track length so
    the duration gate holds.
    """
    if not stems:
        raise ValueError("nothing to mix: no stems")
    plan = mix_plan(list(stems), style=style)
    if length_s is not None:
        n = int(round(length_s * sample_rate))
    else:
        n = max(a.shape[-1] for a in stems.values())
    bus = MixBus(plan, sample_rate=sample_rate, n=n, workers=workers)
    for name, audio in stems.items():
        bus.add(name, audio)
    return bus.finish(length_s), plan
