"""generation.pipeline: the bridge's audio objects decode to what was stored, every time."""

import numpy as np
import soundfile

from generation import pipeline


def _tone(seconds: float, freq: float) -> np.ndarray:
    t = np.arange(int(seconds * pipeline.SAMPLE_RATE)) / pipeline.SAMPLE_RATE
    x = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return np.stack([x, -x])


def test_a_flac_object_decodes_to_its_24_bit_samples_each_time_it_is_read(tmp_path):
    a, b = pipeline.audio_to_flac(_tone(1.0, 440.0)), pipeline.audio_to_flac(_tone(1.0, 660.0))
    (tmp_path / "a.flac").write_bytes(a)
    expected, rate = soundfile.read(tmp_path / "a.flac", dtype="float32", always_2d=True)
    first, first_rate = pipeline.audio_from_bytes(a)
    assert first_rate == rate == pipeline.SAMPLE_RATE
    np.testing.assert_array_equal(first, expected.T)
    first[:] = 0.0  # a caller changing its copy changes nothing the next reader gets
    again, _ = pipeline.audio_from_bytes(a)
    np.testing.assert_array_equal(again, expected.T)
    other, _ = pipeline.audio_from_bytes(b)  # other bytes: other samples, not the last ones kept
    assert not np.array_equal(other, again)
    np.testing.assert_array_equal(pipeline.audio_from_bytes(a)[0], expected.T)


def test_a_retired_checkpoint_the_repo_ships_is_found_by_its_digest(settings, tmp_path):
    """Tracks composed by cadenza 1.1.0 verify after the deployment moved on to 2.0.0, with no
    archive configured: the repo keeps the retired checkpoint under its sha256."""
    import hashlib

    from generation.model import DEFAULT_CHECKPOINT, V1_CHECKPOINT

    settings.CADENZA_CHECKPOINT_ARCHIVE = tmp_path / "empty"
    v1 = hashlib.sha256(V1_CHECKPOINT.read_bytes()).hexdigest()
    assert V1_CHECKPOINT.name == f"{v1}.pt"
    pipeline.model_bundle.cache_clear()
    try:
        current = pipeline.model_bundle()
        assert current.path == str(DEFAULT_CHECKPOINT) and current.checkpoint_sha256 != v1
        retired = pipeline.model_bundle_for(v1)
        assert retired.checkpoint_sha256 == v1 and retired.config.kv_heads == retired.config.n_head
        assert pipeline.model_bundle_for("0" * 64) is None
    finally:
        pipeline.model_bundle.cache_clear()
