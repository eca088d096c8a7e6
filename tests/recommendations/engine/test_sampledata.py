"""The simulator's data file holds what publishing measures: the arrangement as heard."""

from generation.model.compose import DEFAULT_CHECKPOINT, load_bundle
from recommendations.engine import sampledata


def test_a_compose_run_is_measured_as_a_published_track_is():
    from generation.audio.arrange import arrange
    from generation.audio.heard import heard_attributes
    from generation.model.compose import compose
    from generation.model.conditioning import Conditioning

    bundle = load_bundle(DEFAULT_CHECKPOINT)
    _, request, seed = next(sampledata.sample_requests(1, seed=5))
    request = {**request, "length_s": 20.0}
    run = sampledata.compose_one(bundle, request, seed, {})
    cond = Conditioning(request["tempo_bpm"], request["key_tonic"], request["mode"], request["time_signature"],
                        request["density"], request["register"], request["polyphony"], request["length_bars"],
                        tuple(request["families"])).validate()
    arranged = arrange(compose(bundle, cond, seed=seed).midi, request["style"], seed=seed, length_s=20.0,
                       avoid_instruments=request["avoid_instruments"], tempo_bpm=cond.tempo_bpm,
                       key=(cond.key_tonic, cond.mode))
    expected = sampledata._plain(heard_attributes(arranged))
    assert run["measured"] == expected and run["measured"]["tempo_from"] == "onsets"
