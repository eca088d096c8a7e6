"""What a listener can say they like: moods, modes and the ranges of the numeric settings."""

from generation.gm import ALL_FAMILIES

MOODS: tuple[str, ...] = ("calm", "happy", "melancholic", "energetic", "dreamy", "tense")
INSTRUMENT_FAMILIES: tuple[str, ...] = ALL_FAMILIES
TEMPO_RANGE = (40, 220)  # BPM
DEFAULT_TEMPO = (70, 130)
LENGTH_RANGE_S = (30, 600)  # 30 s to 10 minutes
DEFAULT_LENGTH_S = (120, 240)
MAX_EVENT_BATCH = 500
EVENT_MAX_FUTURE_S = 5 * 60
EVENT_MAX_AGE_DAYS = 30
KEY_MODES: tuple[str, ...] = ("major", "minor")


def style_slugs() -> tuple[str, ...]:
    from generation.audio.styles import style_names

    return tuple(style_names())


STYLES: tuple[str, ...] = style_slugs()
