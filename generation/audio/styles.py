"""The style catalogue: what the arranger and the mixer do for each style.

Pure module (no Django). ``STYLES`` is the source of ``GET /api/v1/styles`` and of preference
validation. A style fixes instrumentation (one ``Part`` per role, with a GM program and fallbacks
in other families for listeners who avoid an instrument), drums, tempo feel, humanisation and
reverb. The arranger (``arrange.py``) and the mixer (``mix.py``) read nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generation.gm import DRUMS, program_family

# Roles a part can play in an arrangement (see arrange.py).
MELODY = "melody"
COUNTER = "counter"  # a second voice: the composition's inner line, or a harmony doubling
CHORDS = "chords"  # block or broken chords (piano, guitar, organ)
PAD = "pad"  # sustained voicings (strings, synth pad)
BASS = "bass"
ROLES = (MELODY, COUNTER, CHORDS, PAD, BASS)


@dataclass(frozen=True)
class Part:
    """One instrument of a style: its role, GM programs (first choice, then fallbacks) and mix."""

    role: str
    programs: tuple[int, ...]  # 0-based GM programs; the first whose family is allowed wins
    gain_db: float = 0.0
    pan: float = 0.0  # -1 left … +1 right
    reverb_send: float = 1.0  # multiplier of the style's reverb amount
    pattern: str = ""  # role-specific figure: "block", "arpeggio", "alberti", "strum", "walking" …
    octave: int = 0  # register shift in octaves relative to the role's default
    velocity: int = 80
    optional: bool = False  # may be dropped if every program is avoided
    palette: int = 1  # the first ``palette`` programs are interchangeable: the seed picks one

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(program_family(p) for p in self.programs))


@dataclass(frozen=True)
class Style:
    """An arrangement style: instrumentation, groove and space."""

    slug: str
    name: str
    description: str
    parts: tuple[Part, ...]
    has_drums: bool
    drum_pattern: str  # key into grooves.KITS ("" for none)
    tempo_bpm: tuple[int, int]  # the style's usual tempo range (a description: the request's tempo is played)
    swing: float  # 0 = straight eighths, 0.33 ≈ triplet swing
    humanise_ms: float  # std-dev of onset jitter
    humanise_velocity: float  # std-dev of velocity jitter
    reverb: float  # reverb bus wet level, 0 … 1
    reverb_room: float  # reverb room size, 0 … 1
    brightness_db: float = 0.0  # master high-shelf tilt
    drum_gain_db: float = -4.0
    tags: tuple[str, ...] = field(default=())
    sevenths: bool = False  # chord voicings add the seventh
    drums_on_grid: bool = False  # drums keep exact time (no onset humanisation)
    one_instrument: bool = False  # every part plays the same palette choice (solo piano)

    @property
    def families(self) -> tuple[str, ...]:
        """Every GM family the style may use (first choices and fallbacks, plus drums)."""
        fams: list[str] = []
        for part in self.parts:
            fams.extend(part.families)
        if self.has_drums:
            fams.append(DRUMS)
        return tuple(dict.fromkeys(fams))

    @property
    def primary_families(self) -> tuple[str, ...]:
        """The families the style uses when nothing is avoided (every palette choice)."""
        fams = [program_family(p) for part in self.parts for p in part.programs[:part.palette]]
        if self.has_drums:
            fams.append(DRUMS)
        return tuple(dict.fromkeys(fams))

    def as_dict(self) -> dict:
        """A JSON-ready summary for the API."""
        return {
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "families": list(self.primary_families),
            "has_drums": self.has_drums,
            "reverb": self.reverb,
            "tempo_bpm": list(self.tempo_bpm),
            "swing": self.swing,
        }


# GM programs (0-based) used below, for reading convenience.
ACOUSTIC_GRAND, BRIGHT_PIANO, EPIANO_1, EPIANO_2 = 0, 1, 4, 5
VIBRAPHONE, MARIMBA, CELESTA = 11, 12, 8
CHURCH_ORGAN, REED_ORGAN, ACCORDION = 19, 20, 21
NYLON_GUITAR, STEEL_GUITAR, CLEAN_GUITAR = 24, 25, 27
ACOUSTIC_BASS, FINGER_BASS, SYNTH_BASS_1, SYNTH_BASS_2 = 32, 33, 38, 39
VIOLIN, VIOLA, CELLO, CONTRABASS, HARP = 40, 41, 42, 43, 46
STRING_ENS, SLOW_STRINGS, SYNTH_STRINGS, CHOIR = 48, 49, 50, 52
TRUMPET, TROMBONE, FRENCH_HORN, BRASS_SECTION = 56, 57, 60, 61
OBOE, ENGLISH_HORN, BASSOON, CLARINET = 68, 69, 70, 71
FLUTE, RECORDER, PAN_FLUTE, WHISTLE = 73, 74, 75, 78
SQUARE_LEAD, SAW_LEAD = 80, 81
NEW_AGE_PAD, WARM_PAD, POLYSYNTH, HALO_PAD, SWEEP_PAD = 88, 89, 90, 94, 95
FIDDLE, BANJO, SHAMISEN = 110, 105, 106

STYLES: dict[str, Style] = {
    s.slug: s
    for s in (
        Style(
            slug="chamber",
            name="Chamber",
            description="String quartet with a little woodwind: intimate, acoustic, no drums.",
            parts=(
                Part(MELODY, (VIOLIN, FLUTE, OBOE, ACOUSTIC_GRAND), pan=-0.35, velocity=84, palette=3),
                Part(COUNTER, (VIOLA, CLARINET, NYLON_GUITAR), pan=0.25, gain_db=-3, velocity=72,
                     palette=2),
                Part(PAD, (CELLO, BASSOON, CHURCH_ORGAN), pan=0.4, gain_db=-4, pattern="sustain",
                     octave=-1, velocity=66, optional=True),
                Part(BASS, (CONTRABASS, ACOUSTIC_BASS, BASSOON), pan=0.1, gain_db=-2,
                     pattern="root", velocity=74),
            ),
            has_drums=False, drum_pattern="", tempo_bpm=(72, 92), swing=0.0,
            humanise_ms=12.0, humanise_velocity=6.0, reverb=0.28, reverb_room=0.55,
            tags=("acoustic", "strings"),
        ),
        Style(
            slug="piano",
            name="Solo piano",
            description="One grand piano: melody over broken-chord accompaniment.",
            parts=(
                Part(MELODY, (ACOUSTIC_GRAND, BRIGHT_PIANO, EPIANO_1, HARP), velocity=86, palette=3),
                Part(CHORDS, (ACOUSTIC_GRAND, BRIGHT_PIANO, EPIANO_1, HARP), pattern="arpeggio",
                     gain_db=-4, velocity=62, palette=3),
                Part(BASS, (ACOUSTIC_GRAND, BRIGHT_PIANO, EPIANO_1, HARP), pattern="root",
                     gain_db=-3, octave=-1, velocity=70, palette=3),
            ),
            has_drums=False, drum_pattern="", tempo_bpm=(66, 88), swing=0.0,
            humanise_ms=10.0, humanise_velocity=8.0, reverb=0.22, reverb_room=0.5,
            tags=("acoustic", "solo"), one_instrument=True,
        ),
        Style(
            slug="folk",
            name="Folk",
            description="Fiddle and flute over strummed steel guitar, upright bass and light percussion.",
            parts=(
                Part(MELODY, (FIDDLE, VIOLIN, WHISTLE, ACCORDION), pan=-0.3, velocity=88, palette=3),
                Part(COUNTER, (FLUTE, RECORDER, ACCORDION, CLARINET), pan=0.35, gain_db=-5,
                     velocity=70, optional=True, palette=3),
                Part(CHORDS, (STEEL_GUITAR, NYLON_GUITAR, BANJO, ACOUSTIC_GRAND), pattern="strum",
                     pan=0.2, gain_db=-3, velocity=72, palette=3),
                Part(BASS, (ACOUSTIC_BASS, FINGER_BASS, CONTRABASS), pattern="root_fifth",
                     gain_db=-1, velocity=80),
            ),
            has_drums=True, drum_pattern="folk", tempo_bpm=(96, 120), swing=0.08,
            humanise_ms=14.0, humanise_velocity=9.0, reverb=0.16, reverb_room=0.35,
            drum_gain_db=-8.0, tags=("acoustic",),
        ),
        Style(
            slug="ambient",
            name="Ambient",
            description="Slow pads and a sparse electric piano in a large space; no drums.",
            parts=(
                Part(MELODY, (EPIANO_2, VIBRAPHONE, CELESTA, FLUTE, ACOUSTIC_GRAND), pan=-0.2,
                     velocity=70, palette=3),
                Part(PAD, (WARM_PAD, HALO_PAD, NEW_AGE_PAD, SLOW_STRINGS, CHOIR),
                     pattern="sustain", gain_db=-3, velocity=64, palette=3),
                Part(COUNTER, (SWEEP_PAD, CHOIR, SLOW_STRINGS), pan=0.4, pattern="sustain",
                     gain_db=-7, octave=1, velocity=60, optional=True, palette=2),
                Part(BASS, (SYNTH_BASS_2, FINGER_BASS, CONTRABASS), pattern="drone", gain_db=-5,
                     velocity=60, optional=True),
            ),
            has_drums=False, drum_pattern="", tempo_bpm=(60, 76), swing=0.0,
            humanise_ms=18.0, humanise_velocity=5.0, reverb=0.45, reverb_room=0.9,
            brightness_db=-1.5, tags=("electronic", "calm"), sevenths=True,
        ),
        Style(
            slug="lo-fi",
            name="Lo-fi",
            description="Swung, dusty electric piano with a soft bass and a lazy boom-bap beat.",
            parts=(
                Part(MELODY, (VIBRAPHONE, EPIANO_1, CLEAN_GUITAR, FLUTE), pan=0.2, velocity=72, palette=3),
                Part(CHORDS, (EPIANO_1, EPIANO_2, ACOUSTIC_GRAND, CLEAN_GUITAR), pattern="block",
                     pan=-0.2, gain_db=-3, velocity=62, palette=2),
                Part(BASS, (FINGER_BASS, ACOUSTIC_BASS, SYNTH_BASS_2), pattern="root_fifth",
                     gain_db=-1, velocity=78),
            ),
            has_drums=True, drum_pattern="boom_bap", tempo_bpm=(72, 86), swing=0.3,
            humanise_ms=16.0, humanise_velocity=10.0, reverb=0.18, reverb_room=0.4,
            brightness_db=-3.0, drum_gain_db=-5.0, tags=("chill", "beats"), sevenths=True,
        ),
        Style(
            slug="electronic",
            name="Electronic",
            description="Synth lead, polysynth chords, pulsing synth bass and a four-on-the-floor kit.",
            parts=(
                Part(MELODY, (SAW_LEAD, SQUARE_LEAD, VIBRAPHONE), pan=0.1, gain_db=-4, velocity=84,
                     palette=2),
                Part(CHORDS, (POLYSYNTH, WARM_PAD, EPIANO_2), pattern="offbeat", pan=-0.25,
                     gain_db=-6, velocity=64, palette=2),
                Part(PAD, (HALO_PAD, SYNTH_STRINGS, STRING_ENS), pattern="sustain", gain_db=-10,
                     pan=0.3, velocity=56, optional=True, palette=2),
                Part(BASS, (SYNTH_BASS_1, SYNTH_BASS_2, FINGER_BASS), pattern="eighths",
                     gain_db=-2, velocity=90),
            ),
            has_drums=True, drum_pattern="four_on_floor", tempo_bpm=(110, 126), swing=0.0,
            humanise_ms=3.0, humanise_velocity=4.0, reverb=0.14, reverb_room=0.45,
            brightness_db=1.0, drum_gain_db=-3.0, tags=("electronic", "dance"), drums_on_grid=True,
        ),
        Style(
            slug="cinematic",
            name="Cinematic",
            description="Full strings, horns and harp with timpani-and-toms swells in a hall.",
            parts=(
                Part(MELODY, (FRENCH_HORN, VIOLIN, TRUMPET, FLUTE), pan=-0.15, velocity=84, palette=3),
                Part(PAD, (STRING_ENS, SLOW_STRINGS, SYNTH_STRINGS, CHOIR), pattern="sustain",
                     gain_db=-3, velocity=72, palette=2),
                Part(CHORDS, (HARP, ACOUSTIC_GRAND, CELESTA), pattern="arpeggio", pan=0.35,
                     gain_db=-6, octave=1, velocity=62, optional=True),
                Part(COUNTER, (CHOIR, BRASS_SECTION, CELLO), pan=0.3, pattern="sustain",
                     gain_db=-7, velocity=62, optional=True, palette=2),
                Part(BASS, (CONTRABASS, CELLO, TROMBONE, ACOUSTIC_BASS), pattern="root",
                     gain_db=-2, velocity=80),
            ),
            has_drums=True, drum_pattern="cinematic", tempo_bpm=(70, 90), swing=0.0,
            humanise_ms=10.0, humanise_velocity=7.0, reverb=0.38, reverb_room=0.85,
            drum_gain_db=-6.0, tags=("orchestral", "epic"),
        ),
    )
}


def style_names() -> list[str]:
    """The slugs of every style, in catalogue order."""
    return list(STYLES)


def get_style(slug: str) -> Style:
    """The style called ``slug`` (ValueError naming the valid ones otherwise)."""
    try:
        return STYLES[slug]
    except KeyError:
        raise ValueError(f"unknown style {slug!r}; choose one of {', '.join(STYLES)}") from None
