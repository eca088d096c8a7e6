"""Arrange a composed piece (melody + harmony) into a full arrangement for a style.

``arrange(piece, style, *, seed, length_s, avoid_instruments)`` reads the composition in beats
(ticks / resolution, so its own tempo does not matter), extracts a melody (top voice), a counter
line (the next voice down), and a chord per half bar, then writes a new ``PrettyMIDI``:

* form: intro (harmony only) → passes through the composition, each varied (instrumentation,
  density, octave, chord figure, drum groove, a lift of a whole tone late in long tracks) → the
  cadence → an ending on the tonic with a ritardando. A partial last pass takes the composition's
  final bars so the track always ends on its cadence. No pass repeats the previous one's texture.
* per style (``styles.py``): GM programs with fallbacks for avoided families, bass figure, chord
  voicing (voice-led inversions near a register), pads, drum grooves on channel 10, tempo, swing,
  seeded humanisation of timing and velocity, reverb send (CC91, informative: the mixer owns
  the reverb).

Everything random comes from ``numpy.random.default_rng(seed)``: same inputs, same MIDI.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

import numpy as np
import pretty_midi

from generation.audio.styles import BASS, CHORDS, COUNTER, MELODY, PAD, Part, Style, get_style
from generation.gm import ALL_FAMILIES, DRUMS, program_family

END_MARGIN_S = 0.4  # the last note ends this long before length_s; the release tail fills it
RITARDANDO = 0.18  # the ending's last bar is this much slower
TRIADS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6)}
SEVENTHS = {"maj": 11, "min": 10, "dim": 9}
ROLE_CENTER = {MELODY: 74, COUNTER: 64, CHORDS: 62, PAD: 58, BASS: 40}

# Drum grooves over one 4-beat bar: (beat, GM drum key, velocity). 36 kick, 38 snare,
# 42 closed hat, 46 open hat, 49 crash, 51 ride, 39 clap, 41/45/48 toms, 47 mid tom, 52 china,
# 54 tambourine, 69 cabasa, 70 maracas, 56 cowbell.
DRUM_PATTERNS: dict[str, dict[str, list[tuple[float, int, int]]]] = {
    "folk": {
        "main": [(0, 36, 80), (2, 36, 70), (1, 38, 56), (3, 38, 60)]
        + [(b / 2, 54, 50 + 14 * (b % 2 == 0)) for b in range(8)],
        "light": [(0, 36, 70), (2, 36, 60)] + [(b, 69, 44) for b in range(4)],
    },
    "boom_bap": {
        "main": [(0, 36, 96), (1.5, 36, 70), (2.5, 36, 84), (1, 38, 90), (3, 38, 92)]
        + [(b / 2, 42, 58 + 10 * (b % 2 == 0)) for b in range(8)],
        "light": [(0, 36, 84), (2.5, 36, 70), (3, 39, 70)]
        + [(b / 2, 42, 46) for b in range(0, 8, 2)],
    },
    "four_on_floor": {
        "main": [(b, 36, 110) for b in range(4)] + [(1, 39, 88), (3, 39, 92)]
        + [(b + 0.5, 46, 70) for b in range(4)] + [(b / 4, 42, 46) for b in range(16) if b % 2],
        "light": [(b, 36, 100) for b in range(4)] + [(b + 0.5, 42, 60) for b in range(4)],
    },
    "cinematic": {
        "main": [(0, 36, 100), (0, 49, 70), (1.5, 45, 80), (2, 36, 86), (3, 41, 84),
                 (3.5, 41, 92)],
        "light": [(0, 41, 74), (2, 41, 60)],
    },
}
FILL = [(0, 38, 70), (0.5, 38, 60), (1, 45, 80), (1.5, 45, 76), (2, 47, 84), (2.5, 47, 80),
        (3, 48, 92), (3.25, 48, 84), (3.5, 38, 100), (3.75, 38, 110)]


@dataclass
class Note:
    start: float  # beats in the arrangement
    dur: float
    pitch: int
    vel: int
    keep_time: bool = False  # skip humanised timing (drums on the grid in electronic)


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class
    quality: str

    def pcs(self, seventh: bool = False) -> list[int]:
        tones = [(self.root + i) % 12 for i in TRIADS[self.quality]]
        if seventh:
            tones.append((self.root + SEVENTHS[self.quality]) % 12)
        return tones


@dataclass
class Analysis:
    """The composition, in beats: top voice, second voice, chords per segment."""

    beats_per_bar: float
    bars: int
    melody: list[Note]
    counter: list[Note]
    seg_beats: float
    chords: list[Chord]  # one per segment
    tonic: Chord


@dataclass
class Section:
    kind: str  # intro, pass, ending
    src_bar: int  # first composition bar it plays
    bars: int
    roles: frozenset[str]
    drums: str | None  # groove name, or None
    transpose: int = 0
    melody_octave: int = 0
    alt_figure: bool = False
    fill: bool = False
    tags: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- analysis


def _time_signature(piece: pretty_midi.PrettyMIDI) -> float:
    if piece.time_signature_changes:
        ts = piece.time_signature_changes[0]
        bpb = ts.numerator * 4.0 / ts.denominator
        if 2.0 <= bpb <= 6.0:
            return bpb
    return 4.0


def _voice(piece: pretty_midi.PrettyMIDI, insts: list[pretty_midi.Instrument]) -> list[Note]:
    """A monophonic line from ``insts``, in beats: at each onset the highest note; a new onset
    cuts the note still sounding (a melody moves on; chords under it are the harmony's job)."""
    res = piece.resolution
    raw = sorted(
        (
            (piece.time_to_tick(n.start) / res, piece.time_to_tick(n.end) / res, n.pitch, n.velocity)
            for inst in insts
            for n in inst.notes
        ),
        key=lambda t: (t[0], -t[2]),
    )
    line: list[Note] = []
    for start, end, pitch, vel in raw:
        if line and abs(line[-1].start - start) < 1e-6:
            continue  # same onset, lower note
        if line and line[-1].start + line[-1].dur > start:
            line[-1].dur = max(0.05, start - line[-1].start)
        line.append(Note(start, max(0.05, end - start), pitch, vel))
    return line


def analyse(piece: pretty_midi.PrettyMIDI) -> Analysis:
    """Melody, counter line and harmony of a composition (non-drum instruments)."""
    insts = [i for i in piece.instruments if not i.is_drum and i.notes]
    if not insts:
        raise ValueError("the composition has no pitched notes to arrange")
    bpb = _time_signature(piece)
    res = piece.resolution
    notes = [
        (piece.time_to_tick(n.start) / res, piece.time_to_tick(n.end) / res, n.pitch)
        for i in insts
        for n in i.notes
    ]
    end = max(e for _, e, _ in notes)
    bars = max(1, math.ceil(end / bpb - 1e-6))
    # voices worth following: at least a fifth of the busiest part's sounding time (a stray
    # high chord at the end is not the melody)
    sounding = {id(i): sum(n.end - n.start for n in i.notes) for i in insts}
    busiest = max(sounding.values())
    voices = [i for i in insts if sounding[id(i)] >= 0.2 * busiest]
    by_height = sorted(voices, key=lambda i: -float(np.mean([n.pitch for n in i.notes])))
    if len(by_height) >= 2:
        melody = _voice(piece, [by_height[0]])
        counter = _voice(piece, [by_height[1]])
    else:
        melody = _voice(piece, by_height)
        counter = []
    seg = bpb / 2 if bpb == 4.0 else bpb
    chords = _chords(notes, bars * bpb, seg)
    return Analysis(bpb, bars, melody, counter, seg, chords, chords[-1])


def _chords(notes: list[tuple[float, float, int]], total: float, seg: float) -> list[Chord]:
    n_seg = max(1, round(total / seg))
    weights = np.zeros((n_seg, 12))
    lowest = np.full(n_seg, 999)
    for start, end, pitch in notes:
        first, last = int(start // seg), min(n_seg - 1, int((end - 1e-6) // seg))
        for s in range(first, last + 1):
            overlap = min(end, (s + 1) * seg) - max(start, s * seg)
            if overlap > 0:
                weights[s, pitch % 12] += overlap
                lowest[s] = min(lowest[s], pitch)
    chords: list[Chord] = []
    prev = Chord(0, "maj")
    for s in range(n_seg):
        if weights[s].sum() == 0:
            chords.append(prev)
            continue
        best, best_score = prev, -math.inf
        for root in range(12):
            for quality, ivs in TRIADS.items():
                tones = {(root + i) % 12 for i in ivs}
                score = sum(weights[s, t] for t in tones) - 0.6 * sum(
                    weights[s, t] for t in range(12) if t not in tones
                )
                score += 0.35 * weights[s].sum() * (lowest[s] % 12 == root)
                score -= 0.2 * weights[s].sum() * (quality == "dim")
                score += 0.05 * weights[s].sum() * (Chord(root, quality) == prev)
                if score > best_score:
                    best, best_score = Chord(root, quality), score
        chords.append(best)
        prev = best
    return chords


# ---------------------------------------------------------------- instrumentation


def choose_parts(style: Style, avoid: Collection[str]) -> list[tuple[Part, int]]:
    """(part, program) for each part the style keeps once ``avoid`` families are excluded."""
    avoid = set(avoid)
    unknown = avoid - set(ALL_FAMILIES)
    if unknown:
        raise ValueError(f"unknown instrument families to avoid: {', '.join(sorted(unknown))}")
    chosen: list[tuple[Part, int]] = []
    for part in style.parts:
        program = next((p for p in part.programs if program_family(p) not in avoid), None)
        if program is not None:
            chosen.append((part, program))
        elif not part.optional:
            raise ValueError(
                f"style {style.slug!r} cannot be arranged while avoiding "
                f"{', '.join(sorted(avoid))}: its {part.role} part needs one of "
                f"{', '.join(part.families)}"
            )
    return chosen


# ---------------------------------------------------------------- form


def plan_form(analysis: Analysis, total_bars: int, style: Style, rng: np.random.Generator,
              roles: set[str]) -> list[Section]:  # fmt: skip
    """Intro, varied passes through the composition, final cadence, ending."""
    b = analysis.bars
    intro = 0 if total_bars < 8 else (2 if total_bars < 24 else 4)
    ending = 1 if total_bars < 8 else 2
    body = max(1, total_bars - intro - ending)
    drums = "main" if style.has_drums else None
    light = "light" if style.has_drums else None
    full = frozenset(roles)
    core = frozenset(r for r in roles if r in (MELODY, BASS, CHORDS, PAD))
    thin = frozenset(r for r in roles if r in (MELODY, PAD, CHORDS)) or core
    # (roles, drums, octave, alt_figure, transpose)
    variations = [
        (core, light, 0, False, 0),
        (full, drums, 0, True, 0),
        (thin, None, 1, False, 0),
        (full, drums, 0, False, 0),
        (full, drums, 1, True, 2),
        (core, light, 0, True, 2),
    ]
    sections: list[Section] = []
    if intro:
        intro_roles = frozenset(r for r in roles if r in (CHORDS, PAD, BASS)) or core
        sections.append(Section("intro", 0, intro, intro_roles, None, tags=["intro"]))
    remaining, k = body, 0
    passes = max(1, math.ceil(body / b))
    while remaining > 0:
        bars = min(b, remaining)
        src = b - bars  # a partial pass plays the composition's ending
        if k == 0 and passes > 1 and bars < b:
            src = 0
        v = variations[k % len(variations)] if k < len(variations) else variations[
            1 + int(rng.integers(0, len(variations) - 1))
        ]
        r, d, octv, alt, tr = v
        if passes < 3:
            tr = 0  # a lift only pays off in a long form
        sections.append(Section("pass", src, bars, r, d, tr, octv, alt, fill=style.has_drums,
                                tags=[f"pass{k + 1}"]))  # fmt: skip
        remaining -= bars
        k += 1
    last = sections[-1]
    sections.append(Section("ending", 0, ending, full, None, last.transpose, tags=["ending"]))
    return sections


# ---------------------------------------------------------------- part writers


def _slice(line: list[Note], start: float, end: float) -> list[Note]:
    return [
        Note(n.start - start, min(n.dur, end - n.start), n.pitch, n.vel)
        for n in line
        if start - 1e-6 <= n.start < end - 1e-6
    ]


def _fit_octave(pitches: Iterable[int], center: int) -> int:
    p = list(pitches)
    if not p:
        return 0
    return int(round((center - float(np.median(p))) / 12.0)) * 12


def _voicing(chord: Chord, center: int, prev: list[int] | None, seventh: bool, spread: bool
             ) -> list[int]:  # fmt: skip
    pcs = chord.pcs(seventh)
    candidates = []
    for inv in range(len(pcs)):
        order = pcs[inv:] + pcs[:inv]
        base = center - 7 + ((order[0] - (center - 7)) % 12)
        notes, last = [], base - 1
        for pc in order:
            p = last + 1 + ((pc - (last + 1)) % 12)
            notes.append(p)
            last = p
        if spread:  # open voicing: drop the second voice an octave
            notes[1] -= 12
            notes.sort()
        candidates.append(notes)
    ref = prev if prev else [center] * 3

    def cost(v: list[int]) -> float:
        return abs(float(np.mean(v)) - float(np.mean(ref))) + 0.3 * abs(float(np.mean(v)) - center)

    return min(candidates, key=cost)


def _chords_for(analysis: Analysis, bar0: int, bars: int) -> list[tuple[float, float, Chord]]:
    """(start beat within the section, length, chord) merging repeated chords."""
    per_bar = analysis.beats_per_bar / analysis.seg_beats
    first = int(round(bar0 * per_bar))
    count = int(round(bars * per_bar))
    segs = analysis.chords[first:first + count] or [analysis.tonic]
    out: list[tuple[float, float, Chord]] = []
    for i, c in enumerate(segs):
        start = i * analysis.seg_beats
        if out and out[-1][2] == c and (start % analysis.beats_per_bar) > 1e-6:
            out[-1] = (out[-1][0], out[-1][1] + analysis.seg_beats, c)
        else:
            out.append((start, analysis.seg_beats, c))
    return out


def write_bass(chords, pattern: str, bpb: float, center: int, vel: int, alt: bool) -> list[Note]:
    notes: list[Note] = []
    for start, length, chord in chords:
        root = center - 6 + ((chord.root - (center - 6)) % 12)
        fifth = root + 7 if root + 7 <= center + 9 else root - 5
        if pattern == "drone":
            notes.append(Note(start, length, root, vel))
        elif pattern == "eighths":
            for k in range(int(length * 2)):
                p = root + (12 if alt and k % 4 == 3 else 0)
                notes.append(Note(start + k / 2, 0.42, p, vel - (0 if k % 2 == 0 else 14)))
        elif pattern == "root_fifth":
            notes.append(Note(start, min(length, 1.0) * 0.9, root, vel))
            if length >= 2:
                notes.append(Note(start + length / 2, min(1.0, length / 2) * 0.9, fifth, vel - 8))
            if alt and length >= 2:
                notes.append(Note(start + length - 0.5, 0.4, root + 2, vel - 18))  # passing tone
        else:  # root: held, rearticulated on alt passes
            if alt and length >= 2:
                notes += [Note(start, length / 2 * 0.95, root, vel),
                          Note(start + length / 2, length / 2 * 0.95, fifth, vel - 6)]  # fmt: skip
            else:
                notes.append(Note(start, length * 0.97, root, vel))
    return notes


def write_chords(chords, pattern: str, bpb: float, center: int, vel: int, alt: bool,
                 seventh: bool) -> list[Note]:  # fmt: skip
    notes: list[Note] = []
    prev: list[int] | None = None
    for start, length, chord in chords:
        v = _voicing(chord, center, prev, seventh, spread=pattern == "sustain")
        prev = v
        if pattern == "sustain":
            notes += [Note(start, length * 0.995, p, vel) for p in v]
        elif pattern == "arpeggio":
            seq = v + [v[1] + 12, v[2] if len(v) > 2 else v[0] + 12]
            if alt:
                seq = [v[0], v[2] if len(v) > 2 else v[1], v[1] + 12, v[-1]]
            step = 0.5
            for k in range(int(length / step)):
                p = seq[k % len(seq)]
                notes.append(Note(start + k * step, step * 1.6, p, vel - (0 if k % 2 else -6)))
        elif pattern == "strum":
            hits = [0.0, 1.0, 1.5, 2.5, 3.0] if alt else [0.0, 1.0, 2.0, 3.0]
            for h in hits:
                if h >= length:
                    continue
                up = (h % 1) > 0
                order = v[::-1] if up else v
                for j, p in enumerate(order):
                    notes.append(Note(start + h + j * 0.02, 0.45 if up else 0.9, p,
                                      vel - (12 if up else 0) - j * 2))  # fmt: skip
        elif pattern == "offbeat":
            for k in range(int(length)):
                for p in v:
                    notes.append(Note(start + k + 0.5, 0.3 if not alt else 0.45, p, vel))
        else:  # block
            hits = [0.0] if length < 2 or not alt else [0.0, length / 2 + 0.5]
            for h in hits:
                notes += [Note(start + h, (length - h) * 0.92, p, vel) for p in v]
    return notes


def write_drums(groove: str, variant: str, bars: int, bpb: float, fill: bool) -> list[Note]:
    pattern = DRUM_PATTERNS[groove][variant]
    notes: list[Note] = []
    for bar in range(bars):
        base = bar * bpb
        use = FILL if fill and bar == bars - 1 and variant == "main" else pattern
        for beat, key, vel in use:
            b = beat if bpb == 4 else beat * bpb / 4
            if b < bpb - 1e-6:
                notes.append(Note(base + b, 0.12, key, vel))
        if bar == 0 and variant == "main" and groove != "cinematic":
            notes.append(Note(base, 0.5, 49, 84))
    return notes


def write_melody(line: list[Note], center: int, octave: int, vel: int) -> list[Note]:
    shift = _fit_octave((n.pitch for n in line), center) + 12 * octave
    out = []
    for n in line:
        p = n.pitch + shift
        while p > 100:
            p -= 12
        while p < 28:
            p += 12
        out.append(Note(n.start, n.dur, p, int(vel + (n.vel - 80) * 0.3)))
    return out


# ---------------------------------------------------------------- assembly


@dataclass
class _Track:
    part: Part | None  # None for drums
    program: int
    notes: list[Note] = field(default_factory=list)


def _tempo_map(total_beats: float, ending_beats: float, music_s: float
               ) -> tuple[Callable[[float], float], float]:  # fmt: skip
    """beat → seconds with a ritardando over the ending, scaled to last ``music_s`` seconds."""
    rit_start = max(0.0, total_beats - ending_beats)

    def raw(beat: float) -> float:
        if beat <= rit_start or ending_beats <= 0:
            return beat
        x = min(beat - rit_start, ending_beats)
        # tempo falls linearly to 1/(1+RITARDANDO): integrate the beat period
        return rit_start + x + RITARDANDO * x * x / (2 * ending_beats)

    scale = music_s / raw(total_beats)
    return (lambda b: raw(b) * scale), 60.0 / scale


def arrange(
    piece: pretty_midi.PrettyMIDI,
    style: str,
    *,
    seed: int,
    length_s: float,
    avoid_instruments: Collection[str] = (),
) -> pretty_midi.PrettyMIDI:
    """A full arrangement of ``piece`` in ``style`` lasting about ``length_s`` seconds.

    ``avoid_instruments`` are GM family names (``generation.gm``); they never appear.
    Raises ValueError if the style cannot be arranged without them, or on bad arguments.
    """
    st = get_style(style)
    if not 5.0 <= length_s <= 1800.0:
        raise ValueError(f"length_s must be between 5 and 1800 seconds, got {length_s}")
    parts = choose_parts(st, avoid_instruments)
    use_drums = st.has_drums and DRUMS not in set(avoid_instruments)
    rng = np.random.default_rng(seed)
    an = analyse(piece)
    bpb = an.beats_per_bar

    music_s = length_s - END_MARGIN_S
    bpm0 = float(rng.uniform(*st.tempo_bpm))
    total_bars = max(3, int(round(music_s * bpm0 / 60.0 / bpb)))
    roles = {p.role for p, _ in parts}
    sections = plan_form(an, total_bars, st, rng, roles)
    if not use_drums:
        for s in sections:
            s.drums = None
    seventh = st.slug in ("lo-fi", "ambient")

    tracks = [_Track(p, prog) for p, prog in parts]
    drum_track = _Track(None, 0) if use_drums else None
    beat = 0.0
    for sec in sections:
        length = sec.bars * bpb
        chords = _chords_for(an, sec.src_bar, sec.bars)
        if sec.kind == "ending":
            chords = [(0.0, length, an.tonic)]
        if sec.transpose:
            chords = [(s, ln, Chord((c.root + sec.transpose) % 12, c.quality))
                      for s, ln, c in chords]  # fmt: skip
        s0, s1 = sec.src_bar * bpb, (sec.src_bar + sec.bars) * bpb
        for tr in tracks:
            part = tr.part
            assert part is not None
            if part.role not in sec.roles:
                continue
            center = ROLE_CENTER[part.role] + 12 * part.octave
            if part.role == MELODY:
                if sec.kind == "ending":
                    line = [Note(0.0, length * 0.98, 60 + an.tonic.root, 80)]
                elif sec.kind == "intro":
                    line = []
                else:
                    line = _slice(an.melody, s0, s1)
                new = write_melody(line, center, sec.melody_octave, part.velocity)
            elif part.role == COUNTER:
                line = _slice(an.counter, s0, s1) if sec.kind == "pass" else []
                if not line:
                    new = write_chords(chords, "sustain", bpb, center, part.velocity, False,
                                       False)[::3]  # fmt: skip
                else:
                    new = write_melody(line, center, 0, part.velocity)
                if part.pattern == "sustain" and line:
                    new = _legato(new)
            elif part.role == BASS:
                new = write_bass(chords, part.pattern or "root", bpb, center, part.velocity,
                                 sec.alt_figure)  # fmt: skip
                if sec.kind == "ending":
                    new = new[:1]
                    new[0].dur = length * 0.98
            else:
                pattern = part.pattern or ("sustain" if part.role == PAD else "block")
                if sec.kind == "ending":
                    pattern = "sustain"
                new = write_chords(chords, pattern, bpb, center, part.velocity, sec.alt_figure,
                                   seventh)  # fmt: skip
                if sec.kind == "ending":
                    for n in new:
                        n.dur = length * 0.98
            for n in new:
                if sec.transpose and part.role in (MELODY, COUNTER):
                    n.pitch += sec.transpose
                n.start += beat
            tr.notes.extend(new)
        if drum_track is not None and sec.drums:
            drums = write_drums(st.drum_pattern, sec.drums, sec.bars, bpb, sec.fill)
            for n in drums:
                n.start += beat
                n.keep_time = st.slug == "electronic"
            drum_track.notes.extend(drums)
        if drum_track is not None and sec.kind == "ending" and st.has_drums:
            drum_track.notes.append(Note(beat, 2.0, 49 if st.slug != "cinematic" else 52, 90))
            drum_track.notes.append(Note(beat, 0.5, 36, 100))
        beat += length

    ending_beats = sections[-1].bars * bpb
    to_s, bpm = _tempo_map(beat, ending_beats, music_s)
    out = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    if piece.time_signature_changes:
        ts = piece.time_signature_changes[0]
        out.time_signature_changes.append(pretty_midi.TimeSignature(ts.numerator,
                                                                    ts.denominator, 0.0))
    else:
        out.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    all_tracks = tracks + ([drum_track] if drum_track is not None else [])
    for tr in all_tracks:
        if not tr.notes:
            continue
        is_drum = tr.part is None
        name = "drums" if is_drum else f"{tr.part.role}: {_program_label(tr.program)}"
        inst = pretty_midi.Instrument(program=tr.program, is_drum=is_drum, name=name)
        send = st.reverb * (1.0 if is_drum else tr.part.reverb_send)
        inst.control_changes.append(pretty_midi.ControlChange(91, int(min(127, send * 127)), 0.0))
        _humanise(tr.notes, st, rng, bpb)
        for n in tr.notes:
            start, end = to_s(n.start), to_s(n.start + n.dur)
            start = max(0.0, start)
            end = min(music_s, max(end, start + 0.03))
            if end - start < 0.02:
                continue
            inst.notes.append(pretty_midi.Note(n.vel, int(n.pitch), start, end))
        inst.notes.sort(key=lambda n: (n.start, n.pitch))
        out.instruments.append(inst)
    return out


def _legato(notes: list[Note]) -> list[Note]:
    for a, b in zip(notes, notes[1:], strict=False):
        a.dur = max(a.dur, b.start - a.start)
    return notes


def _program_label(program: int) -> str:
    return pretty_midi.program_to_instrument_name(program).lower()


def _humanise(notes: list[Note], st: Style, rng: np.random.Generator, bpb: float) -> None:
    """Swing off-beat eighths, jitter onsets (ms, converted at ~100 bpm) and velocities."""
    if not notes:
        return
    starts = np.array([n.start for n in notes])
    frac = starts % 1.0
    offbeat = np.abs(frac - 0.5) < 0.02
    jitter_beats = rng.normal(0.0, st.humanise_ms / 600.0, len(notes)).clip(-0.06, 0.06)
    vel_jitter = rng.normal(0.0, st.humanise_velocity, len(notes))
    for i, n in enumerate(notes):
        if st.swing and offbeat[i]:
            n.start += st.swing * 0.5
            n.dur = max(0.05, n.dur - st.swing * 0.5)
        if not n.keep_time:
            n.start = max(0.0, n.start + float(jitter_beats[i]))
        n.vel = int(np.clip(round(n.vel + vel_jitter[i]), 20, 127))
