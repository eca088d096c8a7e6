"""What a listener can say they like: moods, modes and the ranges of the numeric settings.

The styles and instrument families a listener may name are the vocabulary of the app that
composes and arranges (generation). accounts imports nothing above it, so that app provides them
when it is ready (``provide``, from its AppConfig); ``STYLES`` and ``INSTRUMENT_FAMILIES`` read
them (module attributes resolved on first use, after Django has set up its apps).
"""

from django.core.exceptions import ImproperlyConfigured

MOODS: tuple[str, ...] = ("calm", "happy", "melancholic", "energetic", "dreamy", "tense")
TEMPO_RANGE = (40, 220)  # BPM
DEFAULT_TEMPO = (70, 130)
LENGTH_RANGE_S = (30, 600)  # 30 s to 10 minutes
DEFAULT_LENGTH_S = (120, 240)
MAX_EVENT_BATCH = 500
EVENT_MAX_FUTURE_S = 5 * 60
EVENT_MAX_AGE_DAYS = 30
KEY_MODES: tuple[str, ...] = ("major", "minor")

_PROVIDED: dict[str, tuple[str, ...]] = {}


def provide(*, styles: tuple[str, ...], instrument_families: tuple[str, ...]) -> None:
    """Called once by the app that owns styles and instruments (generation's AppConfig.ready)."""
    _PROVIDED.update(STYLES=tuple(styles), INSTRUMENT_FAMILIES=tuple(instrument_families))


def __getattr__(name: str) -> tuple[str, ...]:
    if name in ("STYLES", "INSTRUMENT_FAMILIES"):
        if name not in _PROVIDED:
            raise ImproperlyConfigured(f"accounts.vocabulary.{name} is read before the generation app is ready")
        return _PROVIDED[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
