"""Render a ``PrettyMIDI`` to one stereo float32 stem per instrument with FluidSynth.

Each instrument is rendered by a fresh synth (FluidR3 GM loads in ~0.1 s; the operating system keeps
the file cached), with the synth's own reverb and chorus off (the mixer owns the space). A synth
reused from one render to the next carries state over (voices' modulators, the sample-accurate
phase of its internal clock): the second render of the same MIDI in a process differed from the
first, while a fresh process repeated the first. A fresh synth per stem makes the audio a function
of the MIDI alone, which ``verify_track --audio`` relies on. We drive the synth directly: events are dispatched at their exact
sample positions and ``fluid_synth_write_float`` writes straight into the stem array, so there is
no int16 quantisation and no MIDI file round trip. (``PrettyMIDI.fluidsynth()`` returns mono.)
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

from generation.midi_lib import pretty_midi

DEFAULT_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
)
SYNTH_GAIN = 0.5
TAIL_MAX_S = 3.0  # release tail rendered after the last event
_CHUNK = 1024
RENDER_THREADS = 2  # stems rendered at once (the machines have two cores)

_lock = threading.Lock()
# FluidSynth 2.3's first new_fluid_synth() in a process sets up its default modulators after
# marking the library initialised; a second synth created meanwhile, on another thread, gets
# modulators with no source (stderr: "Modulator with source 1 none") and renders different
# samples. Synths are created one at a time, so the first finishes that set-up alone.
_create_lock = threading.Lock()
_synths: dict[tuple[int, str, int], _WarmSynth] = {}  # (pid, soundfont, rate)


def default_soundfont() -> Path:
    """The General MIDI soundfont installed on this machine (Debian's FluidR3 GM)."""
    for candidate in DEFAULT_SOUNDFONTS:
        if os.path.isfile(candidate):
            return Path(candidate)
    raise FileNotFoundError(
        "no General MIDI soundfont found; install fluid-soundfont-gm or pass a path "
        f"(looked in {', '.join(DEFAULT_SOUNDFONTS)})"
    )


def soundfont_sha256(path: str | Path) -> str:
    """sha256 of a soundfont file, cached per (path, size, mtime): FluidR3 GM is 148 MB."""
    st = os.stat(path)
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=8)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _WarmSynth:
    """A FluidSynth instance with one soundfont loaded, rendering offline into float buffers."""

    def __init__(self, soundfont: str, sample_rate: int):
        import fluidsynth

        self._fs = fluidsynth
        with _create_lock:
            self.synth = fluidsynth.Synth(
                gain=SYNTH_GAIN,
                samplerate=float(sample_rate),
                channels=16,
                **{"synth.reverb.active": 0, "synth.chorus.active": 0, "synth.polyphony": 64},
            )
        self.sfid = self.synth.sfload(soundfont)
        if self.sfid < 0:
            raise RuntimeError(f"FluidSynth could not load soundfont {soundfont}")
        self.sample_rate = sample_rate
        self._write = fluidsynth._fl.fluid_synth_write_float
        self._write.restype = ctypes.c_int
        self._write.argtypes = [
            ctypes.c_void_p, ctypes.c_int,
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
        ]  # fmt: skip
        self._voices = fluidsynth._fl.fluid_synth_get_active_voice_count
        self._voices.restype = ctypes.c_int
        self._voices.argtypes = [ctypes.c_void_p]

    def close(self) -> None:
        self.synth.delete()

    def _write_into(self, out: np.ndarray, start: int, stop: int) -> None:
        if stop > start:
            base, row = out.ctypes.data, out.strides[0]
            self._write(self.synth.synth, stop - start, base, start, 1, base + row, start, 1)

    def render(self, inst: pretty_midi.Instrument, end_s: float) -> np.ndarray:
        """One instrument on channel 0 (or 9 for drums) as a (2, n) float32 array."""
        synth, sr = self.synth, self.sample_rate
        synth.system_reset()
        chan = 9 if inst.is_drum else 0
        synth.program_select(chan, self.sfid, 128 if inst.is_drum else 0, inst.program)
        events = _events(inst, sr)
        n_body = int(round(end_s * sr))
        if events:
            n_body = max(n_body, events[-1][0])
        out = np.zeros((2, n_body + int(TAIL_MAX_S * sr)), dtype=np.float32)
        cursor = 0
        for pos, _order, kind, a, b in events:
            self._write_into(out, cursor, pos)
            cursor = max(cursor, pos)
            if kind == "on":
                synth.noteon(chan, a, b)
            elif kind == "off":
                synth.noteoff(chan, a)
            elif kind == "cc":
                synth.cc(chan, a, b)
            else:
                synth.pitch_bend(chan, a)
        self._write_into(out, cursor, n_body)
        cursor = n_body
        for chan_ in range(16):
            synth.cc(chan_, 64, 0)  # release any sustain pedal before the tail
        while cursor < out.shape[1]:
            stop = min(out.shape[1], cursor + _CHUNK)
            self._write_into(out, cursor, stop)
            cursor = stop
            if self._voices(synth.synth) == 0:
                break
        return out[:, :cursor]


def _events(inst: pretty_midi.Instrument, sr: int) -> list[tuple[int, int, str, int, int]]:
    """(sample, order, kind, a, b) sorted; note-offs before note-ons at the same sample."""
    ev: list[tuple[int, int, str, int, int]] = []
    for cc in inst.control_changes:
        ev.append((int(round(cc.time * sr)), 0, "cc", cc.number, cc.value))
    for pb in inst.pitch_bends:
        ev.append((int(round(pb.time * sr)), 0, "pb", pb.pitch, 0))
    for note in inst.notes:
        on, off = int(round(note.start * sr)), int(round(note.end * sr))
        if off <= on:
            off = on + 1
        ev.append((on, 2, "on", note.pitch, max(1, min(127, note.velocity))))
        ev.append((off, 1, "off", note.pitch, 0))
    ev.sort(key=lambda e: (e[0], e[1]))
    return ev


def warm_synth(soundfont: str | Path, sample_rate: int = 44100) -> _WarmSynth:
    """The process's synth for this soundfont and rate (created on first use)."""
    key = (os.getpid(), str(Path(soundfont).resolve()), int(sample_rate))
    with _lock:  # keyed by pid: a forked worker loads its own
        if key not in _synths:
            _synths[key] = _WarmSynth(key[1], key[2])
        return _synths[key]


def stem_name(index: int, inst: pretty_midi.Instrument) -> str:
    """A stable stem key: ``<index>-<slug of the instrument name>`` (``00-melody_violin``)."""
    if inst.name:
        label = inst.name
    elif inst.is_drum:
        label = "drums"
    else:
        label = pretty_midi.program_to_instrument_name(inst.program)
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    return f"{index:02d}-{slug}"


def iter_stems(
    midi: pretty_midi.PrettyMIDI, *, soundfont: str | Path, sample_rate: int = 44100,
    threads: int = RENDER_THREADS,
) -> Iterator[tuple[str, np.ndarray]]:
    """Render instrument by instrument, yielding ``(stem_name, (2, n) float32)`` in the MIDI's
    instrument order as each is done (its own length: the notes plus its release tail).

    ``threads`` synths render at once (FluidSynth runs outside the GIL), each fresh: the same
    samples as one after the other. The caller can mix a stem while the next ones render."""
    if not midi.instruments:
        raise ValueError("the MIDI has no instruments to render")
    path, rate, end_s = str(Path(soundfont).resolve()), int(sample_rate), midi.get_end_time()
    names = [stem_name(i, inst) for i, inst in enumerate(midi.instruments)]
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        rendered = pool.map(lambda inst: _render_fresh(path, rate, inst, end_s), midi.instruments)
        yield from zip(names, rendered, strict=True)


def _render_fresh(soundfont: str, sample_rate: int, inst: pretty_midi.Instrument, end_s: float) -> np.ndarray:
    synth = _WarmSynth(soundfont, sample_rate)  # fresh: no state from any earlier render
    try:
        return synth.render(inst, end_s)
    finally:
        synth.close()


def render_stems(
    midi: pretty_midi.PrettyMIDI, *, soundfont: str | Path, sample_rate: int = 44100
) -> dict[str, np.ndarray]:
    """One stereo float32 ``(2, n)`` stem per instrument, all the same length (tails included).

    Keys are ``stem_name(i, instrument)`` in the MIDI's instrument order.
    """
    raw = dict(iter_stems(midi, soundfont=soundfont, sample_rate=sample_rate))
    n = max(a.shape[1] for a in raw.values())
    return {k: a if a.shape[1] == n else np.pad(a, ((0, 0), (0, n - a.shape[1])))
            for k, a in raw.items()}  # fmt: skip
