"""General MIDI instrument families: the vocabulary listeners, the model and the arranger share.

Pure module (no Django). A family is a block of eight GM programs (0-based), plus ``drums``
for channel 10.
"""

GM_FAMILIES: tuple[str, ...] = (
    "piano",
    "chromatic_percussion",
    "organ",
    "guitar",
    "bass",
    "strings",
    "ensemble",
    "brass",
    "reed",
    "pipe",
    "synth_lead",
    "synth_pad",
    "synth_effects",
    "ethnic",
    "percussive",
    "sound_effects",
)
DRUMS = "drums"
ALL_FAMILIES: tuple[str, ...] = (*GM_FAMILIES, DRUMS)


def program_family(program: int, *, is_drum: bool = False) -> str:
    """The family of a 0-based GM program number (``drums`` for channel 10)."""
    if is_drum:
        return DRUMS
    if not 0 <= program <= 127:
        raise ValueError(f"GM program out of range: {program}")
    return GM_FAMILIES[program // 8]


def family_programs(family: str) -> range:
    """The 0-based GM programs of a family (empty for drums, which are a channel, not a program)."""
    if family == DRUMS:
        return range(0)
    return range(GM_FAMILIES.index(family) * 8, GM_FAMILIES.index(family) * 8 + 8)
