"""The whole pipeline on a short track, and the command-line entry points."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from django.core.management import CommandError, call_command

from generation.audio.master_file import master_path
from generation.audio.pipeline import run_pipeline, warm_up
from generation.audio.styles import STYLES
from generation.audio.tags import TrackTags
from tests.generation.audio.conftest import SR, clipped_square, speech_like

TAGS = TrackTags("t", "CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/", "p-1",
                 "cadenza", "test")  # fmt: skip


def test_a_short_track_goes_through_every_stage(piece, soundfont):
    warm_up(soundfont)
    result = run_pipeline(piece, style="lo-fi", seed=3, length_s=15.0, soundfont=soundfont,
                          tags=TAGS)  # fmt: skip
    assert result.gates.passed, result.gates.failures
    assert result.audio.shape == (2, 15 * SR)
    assert set(result.timings) == {"arrange", "render", "mix", "master", "encode", "gates",
                                   "pictures"}
    assert result.midi_bytes[:4] == b"MThd"
    assert result.piano_roll_png[:4] == b"\x89PNG" and result.waveform_png[:4] == b"\x89PNG"
    record = json.loads(json.dumps(result.provenance()))
    assert record["soundfont"]["sha256"] and record["master"]["chain"]
    assert record["mix"]["style"] == "lo-fi"
    assert [r["name"] for r in record["renditions"]] == ["flac", "aac-256", "aac-128", "aac-64"]


@pytest.mark.slow
@pytest.mark.parametrize("slug", list(STYLES))
def test_every_style_renders_a_track_that_passes_the_gates(piece, soundfont, slug):
    result = run_pipeline(piece, style=slug, seed=11, length_s=40.0, soundfont=soundfont,
                          tags=TAGS, pictures=False)  # fmt: skip
    assert result.gates.passed, (slug, result.gates.failures)


def _write(path, audio, rate, **kw):
    sf.write(path, np.asarray(audio).T, rate, **kw)
    return path


@pytest.mark.parametrize(
    "name, fmt",
    [("speech.wav", {}), ("square.flac", {}), ("speech22k.ogg", {}), ("speech.mp3", {})],
)
def test_master_file_masters_what_users_hand_it(tmp_path, name, fmt):
    from scipy.signal import resample_poly

    audio = {"speech": speech_like(5.0), "square": clipped_square(4.0),
             "speech22k": resample_poly(speech_like(5.0), 1, 2).astype(np.float32)}[
        name.split(".")[0]]  # fmt: skip
    rate = 22050 if "22k" in name else SR
    src = _write(tmp_path / name, audio, rate)
    for out_name in ("out.flac", "out.m4a"):
        report = master_path(src, tmp_path / out_name)
        assert report["output"]["lufs"] == pytest.approx(-14.0, abs=0.5), out_name
        assert report["output"]["true_peak_dbtp"] <= -1.0
        assert report["output"]["lra"] is not None
        assert report["input"]["sample_rate"] == rate


def test_master_file_command_prints_json(tmp_path, capsys):
    src = _write(tmp_path / "in.wav", speech_like(4.0) * 0.01, SR)
    call_command("master_file", str(src), str(tmp_path / "out.wav"), "--json")
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"input", "output"}
    assert {"lufs", "true_peak_dbtp"} <= set(data["input"])
    assert {"lufs", "true_peak_dbtp", "lra"} <= set(data["output"])
    assert data["input"]["lufs"] < -40 and data["output"]["lufs"] == pytest.approx(-14, abs=0.5)


def test_master_file_refuses_silence_and_garbage_clearly(tmp_path):
    silent = _write(tmp_path / "silent.wav", np.zeros((2, SR * 3)), SR)
    with pytest.raises(CommandError, match="silent"):
        call_command("master_file", str(silent), str(tmp_path / "o.wav"), "--json")
    garbage = tmp_path / "noise.mp3"
    garbage.write_bytes(b"this is not audio" * 100)
    with pytest.raises(CommandError, match="cannot decode noise.mp3"):
        call_command("master_file", str(garbage), str(tmp_path / "o.wav"))
    with pytest.raises(CommandError, match="no such file"):
        call_command("master_file", str(tmp_path / "missing.wav"), str(tmp_path / "o.wav"))


def test_the_module_entry_point_exits_2_with_a_message(tmp_path):
    silent = _write(tmp_path / "silent.flac", np.zeros((1, SR * 2)), SR)
    proc = subprocess.run([sys.executable, "-m", "generation.audio.master_file", str(silent),
                           str(tmp_path / "o.flac"), "--json"], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: cannot master silent.flac") and "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.django_db
def test_bench_pipeline_reports_the_production_path_and_the_floor(capsys):
    from generation.models import GenerationJob

    call_command("bench_pipeline", "--json", "--length", "20", "--repeats", "1", "--path", "production")
    prod = json.loads(capsys.readouterr().out)["production"]
    assert set(prod["phases_s"]) == {"compose", "render", "publish"} and prod["total_s"] > 0
    assert prod["floor"]["fluidsynth_cli_render_s"] > 0 and prod["ratio_to_floor_without_compose"] > 0
    assert all(r["passed"] for r in prod["renditions"])
    assert not GenerationJob.objects.exists()  # rolled back


@pytest.mark.slow
def test_bench_pipeline_reports_stages_and_the_floor(capsys):
    call_command("bench_pipeline", "--json", "--length", "20", "--path", "pipeline")
    data = json.loads(capsys.readouterr().out)["pipeline"]
    assert set(data["stages_s"]) == {"compose", "arrange", "render", "mix", "master", "encode",
                                     "gates"}
    assert data["floor"]["fluidsynth_cli_render_s"] > 0 and data["compose"]["source"]
    assert data["gates"]["passed"]
