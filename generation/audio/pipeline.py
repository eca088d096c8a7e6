"""The audio pipeline end to end, as one pure function with per-stage timings.

``run_pipeline(piece, style=..., seed=..., length_s=..., avoid_instruments=..., soundfont=...,
tags=...)`` = arrange → render_and_mix → master → encode → run_gates
(+ pictures). ``warm_up()`` pays the one-off costs (imports, soundfont load) a worker
process pays once at start. The Django job runner may call the stages one by one instead; this function is
what it would do, and what ``bench_pipeline`` times.
"""

from __future__ import annotations

import io
import time
from collections.abc import Collection
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generation.audio.arrange import arrange
from generation.audio.encode import RENDITIONS, Rendition, RenditionSpec, encode_checked
from generation.audio.gates import GateReport, run_gates
from generation.audio.master import MasterReport, master
from generation.audio.mix import MixBus, MixPlan, mix_plan
from generation.audio.pictures import piano_roll_png, waveform_png
from generation.audio.render import iter_stems, soundfont_sha256, stem_name
from generation.audio.styles import get_style
from generation.audio.tags import TrackTags
from generation.midi_lib import pretty_midi

SAMPLE_RATE = 44100


@dataclass
class PipelineResult:
    midi: pretty_midi.PrettyMIDI
    midi_bytes: bytes  # the arrangement, kept next to the audio
    audio: np.ndarray  # mastered (2, n) float32
    sample_rate: int
    mix_plan: MixPlan
    master_report: MasterReport
    renditions: list[Rendition]
    gates: GateReport
    soundfont: dict
    timings: dict[str, float] = field(default_factory=dict)
    cpu_timings: dict[str, float] = field(default_factory=dict)  # CPU s (threads + children)
    piano_roll_png: bytes = b""
    waveform_png: bytes = b""

    def provenance(self) -> dict:
        """Plain data for the provenance record (no audio bytes)."""
        return {
            "soundfont": self.soundfont,
            "mix": self.mix_plan.as_dict(),
            "master": self.master_report.as_dict(),
            "renditions": [r.as_dict() for r in self.renditions],
            "gates": self.gates.as_dict(),
            "timings": self.timings,
        }


def midi_bytes(midi: pretty_midi.PrettyMIDI) -> bytes:
    buf = io.BytesIO()
    midi.write(buf)
    return buf.getvalue()


def cpu_seconds() -> float:
    """CPU time of this process (all threads) plus its finished children (ffmpeg)."""
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


@contextmanager
def _timed(timings: dict[str, float], stage: str, cpu: dict[str, float] | None = None):
    t0, c0 = time.perf_counter(), cpu_seconds()
    try:
        yield
    finally:
        timings[stage] = round(time.perf_counter() - t0, 4)
        if cpu is not None:
            cpu[stage] = round(cpu_seconds() - c0, 4)


def run_pipeline(
    piece: pretty_midi.PrettyMIDI,
    *,
    style: str,
    seed: int,
    length_s: float,
    avoid_instruments: Collection[str] = (),
    soundfont: str | Path,
    tags: TrackTags,
    sample_rate: int = SAMPLE_RATE,
    renditions: tuple[RenditionSpec, ...] = RENDITIONS,
    pictures: bool = True,
    tempo_bpm: float | None = None,
    key: tuple[int, str] | None = None,
) -> PipelineResult:
    """Composed piece → tagged renditions, gates, pictures; timings per stage (seconds)."""
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    with _timed(timings, "arrange", cpu):
        midi = arrange(piece, style, seed=seed, length_s=length_s, avoid_instruments=avoid_instruments,
                       tempo_bpm=tempo_bpm, key=key)  # fmt: skip
        data = midi_bytes(midi)
    c0 = cpu_seconds()
    mixed, plan = render_and_mix(midi, style=style, soundfont=soundfont,
                                 sample_rate=sample_rate, length_s=length_s, timings=timings)
    cpu["render+mix"] = round(cpu_seconds() - c0, 4)
    with _timed(timings, "master", cpu):
        audio, report = master(mixed, sample_rate, brightness_db=get_style(style).brightness_db,
                               measure_input=False)
    with _timed(timings, "encode", cpu):
        def remaster(ceiling_dbtp: float, target_lufs: float):
            again, again_report = master(mixed, sample_rate, brightness_db=get_style(style).brightness_db,
                                         ceiling_dbtp=ceiling_dbtp, target_lufs=target_lufs,
                                         measure_input=False)
            return again, (again_report.lufs, again_report.true_peak_dbtp)

        rends = encode_checked(audio, sample_rate, tags=tags, specs=renditions,
                               measured=(report.lufs, report.true_peak_dbtp), remaster=remaster)
    with _timed(timings, "gates", cpu):
        gates = run_gates(audio, sample_rate, requested_duration_s=length_s,
                          lufs=report.lufs, true_peak_dbtp=report.true_peak_dbtp)
    roll = wave = b""
    if pictures:
        with _timed(timings, "pictures", cpu):
            roll = piano_roll_png(midi)
            wave = waveform_png(audio, sample_rate)
    sf_info = {"path": str(soundfont), "name": Path(soundfont).name,
               "sha256": soundfont_sha256(soundfont), "licence": "MIT (FluidR3 GM)"}  # fmt: skip
    return PipelineResult(midi, data, audio, sample_rate, plan, report, rends, gates, sf_info,
                          timings, cpu, roll, wave)  # fmt: skip


def render_and_mix(
    midi: pretty_midi.PrettyMIDI,
    *,
    style: str,
    soundfont: str | Path,
    sample_rate: int,
    length_s: float,
    timings: dict[str, float] | None = None,
) -> tuple[np.ndarray, MixPlan]:
    """Render stems and mix them, overlapped: stems render two at a time (``iter_stems``) and each
    is levelled and equalised as it arrives while the next ones render. The same samples as
    ``mix_with_plan(render_stems(...))`` (tested); the render stage and ``verify_track`` use it.
    ``timings`` gets ``render`` (seconds spent waiting for FluidSynth) and ``mix`` (the rest of
    the wall time: what mixing added)."""
    if not midi.instruments:
        raise ValueError("the MIDI has no instruments to render")
    t0 = time.perf_counter()
    names = [stem_name(i, inst) for i, inst in enumerate(midi.instruments)]
    plan = mix_plan(names, style=style)
    bus = MixBus(plan, sample_rate=sample_rate, n=int(round(length_s * sample_rate)))
    rendering = 0.0
    stems = iter_stems(midi, soundfont=soundfont, sample_rate=sample_rate)
    while True:
        r0 = time.perf_counter()
        item = next(stems, None)
        rendering += time.perf_counter() - r0
        if item is None:
            break
        bus.add(*item)
    mixed = bus.finish(length_s)
    if timings is not None:
        timings["render"] = round(rendering, 4)
        timings["mix"] = round(time.perf_counter() - t0 - rendering, 4)
    return mixed, plan


def warm_up(soundfont: str | Path, sample_rate: int = SAMPLE_RATE) -> float:
    """Import the heavy modules and load the soundfont once per process; seconds it took."""
    t0 = time.perf_counter()
    import pedalboard  # noqa: F401
    import scipy.signal  # noqa: F401

    from generation.audio import loudness
    from generation.audio.render import warm_synth

    warm_synth(soundfont, sample_rate)
    loudness.integrated_loudness(np.zeros((2, sample_rate), np.float32), sample_rate)
    return time.perf_counter() - t0


def corpus_piece(name: str = "bach/bwv66.6") -> pretty_midi.PrettyMIDI:
    """A music21 corpus piece as PrettyMIDI (development stand-in for the composer)."""
    import music21

    score = music21.corpus.parse(name)
    data = music21.midi.translate.streamToMidiFile(score).writestr()
    return pretty_midi.PrettyMIDI(io.BytesIO(data))
