"""Hypothesis strategies shared by the engine's tests: stated preferences as the API stores them."""

from hypothesis import strategies as st

from generation.audio.styles import STYLES as _STYLES
from generation.gm import ALL_FAMILIES as INSTRUMENT_FAMILIES
from recommendations.engine.features import MOODS

STYLES = tuple(_STYLES)

preferences = st.fixed_dictionaries({
    "styles": st.lists(st.sampled_from(STYLES), max_size=3, unique=True),
    "moods": st.lists(st.sampled_from(MOODS), max_size=3, unique=True),
    "tempo_min": st.integers(40, 120),
    "tempo_max": st.integers(120, 220),
    "energy": st.floats(0, 1),
    "preferred_instruments": st.lists(st.sampled_from(INSTRUMENT_FAMILIES), max_size=3, unique=True),
    "avoided_instruments": st.lists(st.sampled_from(INSTRUMENT_FAMILIES), max_size=4, unique=True),
    "mode": st.sampled_from(["major", "minor", "any"]),
    "length_min_s": st.integers(30, 120),
    "length_max_s": st.integers(120, 600),
    "exploration": st.floats(0, 1),
})

PREFS = {
    "styles": ["piano", "chamber"], "moods": ["calm"], "tempo_min": 60, "tempo_max": 90,
    "energy": 0.3, "preferred_instruments": ["piano"], "avoided_instruments": ["brass"],
    "mode": "minor", "length_min_s": 60, "length_max_s": 180, "exploration": 0.3,
}
