from dataclasses import FrozenInstanceError

import pytest

from generation.audio.grooves import KITS as DRUM_PATTERNS
from generation.audio.styles import STYLES, get_style, style_names
from generation.gm import ALL_FAMILIES, DRUMS, GM_FAMILIES


def test_it_offers_the_catalogue_in_order():
    assert style_names() == ["chamber", "piano", "folk", "ambient", "lo-fi", "electronic",
                             "cinematic"]


@pytest.mark.parametrize("slug", list(STYLES))
def test_it_describes_each_style_with_gm_families(slug):
    style = STYLES[slug]
    assert style.slug == slug and style.name and style.description
    assert set(style.families) <= set(ALL_FAMILIES)
    assert (DRUMS in style.families) == style.has_drums
    assert bool(style.drum_pattern) == style.has_drums
    if style.has_drums:
        assert style.drum_pattern in DRUM_PATTERNS
    assert 0 < style.reverb < 1
    assert all(p.programs and all(0 <= q < 128 for q in p.programs) for p in style.parts)
    assert set(style.primary_families) - {DRUMS} <= set(GM_FAMILIES)
    assert style.as_dict()["slug"] == slug


def test_styles_are_frozen():
    with pytest.raises(FrozenInstanceError):
        STYLES["piano"].reverb = 1.0  # type: ignore[misc]


def test_it_names_the_valid_styles_when_one_is_unknown():
    with pytest.raises(ValueError, match="chamber, piano"):
        get_style("polka")


def test_lo_fi_swings_and_electronic_does_not():
    assert STYLES["lo-fi"].swing > 0.2
    assert STYLES["electronic"].swing == 0
