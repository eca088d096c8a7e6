"""REMI-family event vocabulary and the MIDI <-> token round trip.

Pure module (numpy, pretty_midi, stdlib). Grid: ``TICKS_PER_QUARTER = 12`` ticks per quarter
note, fine enough for sixteenths (3 ticks) and eighth-note triplets (4 ticks).

A token sequence is::

    BOS TS_<n/d> TEMPO_<bin> INST_<family> x n_parts
    BAR [POS_<k> [PART_<i>] [VEL_<b>] PITCH_<p> DUR_<d> [[PART_<i>] [VEL_<b>] PITCH DUR]... ]...
    ... EOS

* ``BAR`` opens a bar; ``POS_k`` is the onset tick inside the bar (strictly increasing).
* ``PART_i`` switches the current part (index into the header's INST tokens); it is written only
  when the part changes. ``VEL_b`` (velocity bucket) is written only when the current part's
  velocity changes. Both are sticky state, which keeps a melody at three tokens per note.
* Inside a position notes are ordered by (part, velocity, pitch).
* ``DUR_d`` is the duration in ticks, 1..96 (longer notes are clipped to 96 ticks).

One tempo and one time signature per piece (the first ones); drum tracks are not encoded; a part
is identified by its GM family and written back with that family's canonical program.
``midi_to_tokens(tokens_to_midi(t)) == t`` for every canonical sequence, and
``tokens_to_midi(midi_to_tokens(pm))`` equals ``pm`` quantised to the grid (property-tested).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np

from generation.gm import GM_FAMILIES, program_family
from generation.midi_lib import pretty_midi

VOCAB_VERSION = "remi-v1"
TICKS_PER_QUARTER = 12
MAX_PARTS = 4
MAX_DUR = 96
N_VEL = 8
N_TEMPO = 32
TEMPO_MIN, TEMPO_MAX = 40.0, 220.0

TIME_SIGNATURES: tuple[str, ...] = (
    "2/4", "3/4", "4/4", "2/2", "3/8", "6/8", "9/8", "12/8", "6/4", "3/2",
)
FAMILIES: tuple[str, ...] = GM_FAMILIES  # 16 GM families; drums are not modelled
CANONICAL_PROGRAM: dict[str, int] = {
    "piano": 0, "chromatic_percussion": 11, "organ": 19, "guitar": 24, "bass": 32,
    "strings": 40, "ensemble": 48, "brass": 56, "reed": 65, "pipe": 73, "synth_lead": 80,
    "synth_pad": 88, "synth_effects": 98, "ethnic": 105, "percussive": 114,
    "sound_effects": 122,
}


def bar_ticks(ts: str) -> int:
    """Length of one bar of ``ts`` in grid ticks."""
    num, den = (int(x) for x in ts.split("/"))
    return num * TICKS_PER_QUARTER * 4 // den


MAX_POS = max(bar_ticks(ts) for ts in TIME_SIGNATURES)  # 72


def tempo_bin(bpm: float) -> int:
    """Nearest of ``N_TEMPO`` log-spaced tempo bins between 40 and 220 BPM."""
    bpm = min(max(float(bpm), TEMPO_MIN), TEMPO_MAX)
    x = math.log(bpm / TEMPO_MIN) / math.log(TEMPO_MAX / TEMPO_MIN) * (N_TEMPO - 1)
    return int(round(x))


def tempo_value(b: int) -> float:
    """The BPM a tempo bin stands for (rounded to 0.01 BPM)."""
    return round(TEMPO_MIN * (TEMPO_MAX / TEMPO_MIN) ** (b / (N_TEMPO - 1)), 2)


def vel_bucket(velocity: int) -> int:
    return min(max(int(velocity), 0) // 16, N_VEL - 1)


def vel_value(b: int) -> int:
    return b * 16 + 8


class Vocab:
    """Token ids. Built deterministically from the constants above."""

    def __init__(self) -> None:
        names: list[str] = ["PAD", "BOS", "EOS", "BAR"]
        names += [f"TS_{ts}" for ts in TIME_SIGNATURES]
        names += [f"TEMPO_{i}" for i in range(N_TEMPO)]
        names += [f"INST_{f}" for f in FAMILIES]
        names += [f"POS_{i}" for i in range(MAX_POS)]
        names += [f"PART_{i}" for i in range(MAX_PARTS)]
        names += [f"VEL_{i}" for i in range(N_VEL)]
        names += [f"PITCH_{i}" for i in range(128)]
        names += [f"DUR_{i}" for i in range(1, MAX_DUR + 1)]
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}
        self.pad, self.bos, self.eos, self.bar = 0, 1, 2, 3
        self.ts0 = self.index[f"TS_{TIME_SIGNATURES[0]}"]
        self.tempo0 = self.index["TEMPO_0"]
        self.inst0 = self.index[f"INST_{FAMILIES[0]}"]
        self.pos0 = self.index["POS_0"]
        self.part0 = self.index["PART_0"]
        self.vel0 = self.index["VEL_0"]
        self.pitch0 = self.index["PITCH_0"]
        self.dur0 = self.index["DUR_1"]  # DUR_d has id dur0 + d - 1

    def __len__(self) -> int:
        return len(self.names)

    def kind(self, tok: int) -> str:
        return self.names[tok].split("_")[0]

    def to_dict(self) -> dict:
        return {"version": VOCAB_VERSION, "names": self.names}


VOCAB = Vocab()


@dataclass(frozen=True, order=True)
class GridNote:
    """A note on the grid: onset tick (absolute), part index, velocity bucket, pitch, ticks."""

    start: int
    part: int
    vel: int
    pitch: int
    dur: int


@dataclass
class Piece:
    """A quantised piece: the tokenizer's intermediate form."""

    ts: str
    tempo: int  # tempo bin
    families: tuple[str, ...]  # one per part
    notes: list[GridNote] = field(default_factory=list)

    def canonical(self) -> Piece:
        """Dedupe (start, part, pitch), clip durations to 1..96 ticks and so that a note ends
        before the next onset of the same pitch in its part, sort by (start, part, vel, pitch)."""
        best: dict[tuple[int, int, int], GridNote] = {}
        for n in self.notes:
            n = GridNote(n.start, n.part, n.vel, n.pitch, min(max(n.dur, 1), MAX_DUR))
            k = (n.start, n.part, n.pitch)
            if k not in best or n.dur > best[k].dur:
                best[k] = n
        nxt: dict[tuple[int, int], int] = {}
        out = []
        for n in sorted(best.values(), key=lambda n: (n.part, n.pitch, -n.start)):
            k = (n.part, n.pitch)
            if k in nxt and n.start + n.dur > nxt[k]:
                n = GridNote(n.start, n.part, n.vel, n.pitch, nxt[k] - n.start)
            nxt[k] = n.start
            out.append(n)
        return Piece(self.ts, self.tempo, tuple(self.families), sorted(out))


def piece_to_tokens(piece: Piece) -> list[int]:
    v = VOCAB
    p = piece.canonical()
    if p.ts not in TIME_SIGNATURES:
        raise ValueError(f"unsupported time signature {p.ts}")
    if not 1 <= len(p.families) <= MAX_PARTS:
        raise ValueError(f"need 1..{MAX_PARTS} parts, got {len(p.families)}")
    out = [v.bos, v.index[f"TS_{p.ts}"], v.tempo0 + p.tempo]
    out += [v.index[f"INST_{f}"] for f in p.families]
    blen = bar_ticks(p.ts)
    n_bars = (p.notes[-1].start // blen + 1) if p.notes else 1
    cur_part, cur_vel = -1, [-1] * MAX_PARTS
    by_bar: dict[int, list[GridNote]] = {}
    for n in p.notes:
        by_bar.setdefault(n.start // blen, []).append(n)
    for b in range(n_bars):
        out.append(v.bar)
        last_pos = -1
        for n in by_bar.get(b, []):
            pos = n.start - b * blen
            if pos != last_pos:
                out.append(v.pos0 + pos)
                last_pos = pos
            if n.part != cur_part:
                out.append(v.part0 + n.part)
                cur_part = n.part
            if n.vel != cur_vel[n.part]:
                out.append(v.vel0 + n.vel)
                cur_vel[n.part] = n.vel
            out += [v.pitch0 + n.pitch, v.dur0 + n.dur - 1]
    out.append(v.eos)
    return out


def tokens_to_piece(tokens: list[int]) -> Piece:
    """Parse a token sequence (strictly: raises ValueError on an invalid order)."""
    v = VOCAB
    toks = [int(t) for t in tokens]
    if not toks or toks[0] != v.bos:
        raise ValueError("sequence must start with BOS")
    if len(toks) < 3 or v.kind(toks[1]) != "TS" or v.kind(toks[2]) != "TEMPO":
        raise ValueError("header must be BOS TS TEMPO INST+")
    ts = v.names[toks[1]][3:]
    tempo = toks[2] - v.tempo0
    i, fams = 3, []
    while i < len(toks) and v.kind(toks[i]) == "INST":
        fams.append(v.names[toks[i]][5:])
        i += 1
    if not 1 <= len(fams) <= MAX_PARTS:
        raise ValueError("header must declare 1..4 INST tokens")
    blen = bar_ticks(ts)
    bar, pos, part, vel = -1, -1, -1, [-1] * MAX_PARTS
    pitch = -1
    notes: list[GridNote] = []
    for t in toks[i:]:
        k = v.kind(t)
        if k == "EOS":
            break
        if k == "BAR":
            bar, pos = bar + 1, -1
        elif k == "POS":
            p = t - v.pos0
            if bar < 0 or p <= pos or p >= blen:
                raise ValueError(f"bad position {p} at bar {bar}")
            pos = p
        elif k == "PART":
            part = t - v.part0
            if part >= len(fams):
                raise ValueError(f"part {part} not declared")
        elif k == "VEL":
            if part < 0:
                raise ValueError("VEL before any PART")
            vel[part] = t - v.vel0
        elif k == "PITCH":
            if pos < 0 or part < 0 or vel[part] < 0 or pitch >= 0:
                raise ValueError("PITCH needs a position, a part and a velocity")
            pitch = t - v.pitch0
        elif k == "DUR":
            if pitch < 0:
                raise ValueError("DUR without PITCH")
            notes.append(GridNote(bar * blen + pos, part, vel[part], pitch, t - v.dur0 + 1))
            pitch = -1
        else:
            raise ValueError(f"unexpected token {v.names[t]}")
    return Piece(ts, tempo, tuple(fams), notes)


def piece_to_midi(piece: Piece) -> pretty_midi.PrettyMIDI:
    bpm = tempo_value(piece.tempo)
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=bpm)
    num, den = (int(x) for x in piece.ts.split("/"))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(num, den, 0.0))
    sec_per_tick = 60.0 / bpm / TICKS_PER_QUARTER
    insts = []
    for fam in piece.families:
        inst = pretty_midi.Instrument(program=CANONICAL_PROGRAM[fam], name=fam)
        insts.append(inst)
        pm.instruments.append(inst)
    for n in piece.notes:
        insts[n.part].notes.append(pretty_midi.Note(
            velocity=vel_value(n.vel), pitch=n.pitch,
            start=n.start * sec_per_tick, end=(n.start + n.dur) * sec_per_tick))
    return pm


def midi_to_piece(pm: pretty_midi.PrettyMIDI) -> Piece:
    ts = "4/4"
    if pm.time_signature_changes:
        t0 = pm.time_signature_changes[0]
        ts = f"{t0.numerator}/{t0.denominator}"
    if ts not in TIME_SIGNATURES:
        raise ValueError(f"unsupported time signature {ts}")
    _, tempi = pm.get_tempo_changes()
    tempo = tempo_bin(tempi[0] if len(tempi) else 120.0)
    parts = [inst for inst in pm.instruments if not inst.is_drum]
    if not 1 <= len(parts) <= MAX_PARTS:
        raise ValueError(f"need 1..{MAX_PARTS} non-drum parts, got {len(parts)}")
    res = pm.resolution
    notes = []

    def tick(t: float) -> int:
        return int(round(pm.time_to_tick(t) * TICKS_PER_QUARTER / res))

    for i, inst in enumerate(parts):
        for n in inst.notes:
            s, e = tick(n.start), tick(n.end)
            notes.append(GridNote(s, i, vel_bucket(n.velocity), n.pitch, max(e - s, 1)))
    fams = tuple(program_family(p.program) for p in parts)
    return Piece(ts, tempo, fams, notes).canonical()


def midi_to_tokens(pm: pretty_midi.PrettyMIDI) -> list[int]:
    """Encode a PrettyMIDI (first tempo and time signature, up to 4 non-drum parts)."""
    return piece_to_tokens(midi_to_piece(pm))


def tokens_to_midi(tokens: list[int]) -> pretty_midi.PrettyMIDI:
    """Decode tokens into a PrettyMIDI (canonical GM program per family)."""
    return piece_to_midi(tokens_to_piece(tokens))


def midi_bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def transpose_tokens(tokens: np.ndarray, k: int) -> np.ndarray:
    """Shift every PITCH token by ``k`` semitones (caller keeps pitches within 0..127)."""
    v = VOCAB
    out = tokens.copy()
    m = (out >= v.pitch0) & (out < v.pitch0 + 128)
    out[m] += k
    return out
