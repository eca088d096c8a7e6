"""cond-v1: vector layout, validation, round trip."""

import dataclasses

import pytest

from generation.model.conditioning import (
    SCHEMA,
    SCHEMA_VERSION,
    VECTOR_LENGTH,
    Conditioning,
    model_features,
)
from generation.model.network import ModelConfig


def test_schema_is_versioned_and_indexed_densely():
    assert SCHEMA_VERSION == "cond-v1"
    assert [i for i, *_ in SCHEMA] == list(range(VECTOR_LENGTH))
    assert SCHEMA[0][1] == "tempo_bpm" and SCHEMA[1][1] == "key_tonic"


def test_it_round_trips_through_the_vector():
    c = Conditioning(97.5, 9, "minor", "6/8", 1.75, 71.0, 1.0, 24, ("pipe", "strings"))
    v = c.to_vector()
    assert len(v) == VECTOR_LENGTH
    assert Conditioning.from_vector(v) == c
    assert Conditioning.from_vector(Conditioning.default().to_vector()) == Conditioning.default()


def test_default_is_valid_and_features_fit_the_model():
    c = Conditioning.default().validate()
    assert len(model_features(c.to_vector())) == ModelConfig().n_cond


@pytest.mark.parametrize("field,value", [
    ("tempo_bpm", 300.0), ("key_tonic", 12), ("mode", "dorian"), ("time_signature", "7/8"),
    ("density", 0.0), ("register", 120.0), ("polyphony", 9.0), ("length_bars", 100),
    ("families", ("drums",)), ("families", ()),
])
def test_validate_names_the_bad_attribute(field, value):
    c = dataclasses.replace(Conditioning.default(), **{field: value})
    with pytest.raises(ValueError, match=field):
        c.validate()


def test_parts_follow_polyphony_and_families():
    c = dataclasses.replace(Conditioning.default(), polyphony=1.0, families=("strings", "piano"))
    assert c.n_parts == 4
    assert c.part_families() == ("piano", "strings", "piano", "strings")
    solo = dataclasses.replace(c, families=("pipe",))
    assert solo.n_parts == 1
    assert dataclasses.replace(solo, polyphony=2.5).part_families() == ("pipe",) * 4


def test_wrong_vector_length_is_rejected():
    with pytest.raises(ValueError, match="cond-v1"):
        Conditioning.from_vector([1.0, 2.0])
