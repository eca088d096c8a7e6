"""Benchmark the pipeline on one track and measure the floor in the same run.

    python -m generation.audio.bench --json [--length 180] [--style folk] [--seed 7]

Stages: compose (the real composer when its checkpoint exists, else a Bach chorale from the
music21 corpus — the JSON says which), arrange, render, mix, master, encode, gates; total and
real-time factor. Floor, in the same run: ``fluidsynth -ni -F`` renders the same arranged MIDI,
and the encoders alone (ffmpeg's, ffmpeg's flac) encode the same renditions of the same mastered
audio, with the same two-way parallelism the pipeline uses (the serial sum is reported too).
The encoders get the mastered audio, not the CLI's raw render, because AAC's rate control works
harder on a dense -14 LUFS master than on a quiet raw render: the floor does the same work.
``python manage.py bench_pipeline`` is a thin wrapper around ``main``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from generation.audio.encode import RENDITIONS, RenditionSpec, ffmpeg_binary
from generation.audio.pipeline import corpus_piece, run_pipeline, warm_up
from generation.audio.render import default_soundfont
from generation.audio.tags import TrackTags

FALLBACK_PIECE = "bach/bwv10.7"  # 22 bars


def _compose(seed: int) -> tuple[object, dict]:
    """The composed piece and how it was made (model or corpus fallback)."""
    info: dict = {}
    try:
        from generation.model.compose import DEFAULT_CHECKPOINT, compose, load_bundle
        from generation.model.conditioning import Conditioning

        checkpoint = Path(DEFAULT_CHECKPOINT)
    except Exception as exc:  # the composer package is not importable yet
        checkpoint, info["composer_error"] = None, f"{type(exc).__name__}: {exc}"
    if checkpoint is not None and checkpoint.exists():
        t0 = time.perf_counter()
        bundle = load_bundle(checkpoint)
        info["load_model_s"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        comp = compose(bundle, Conditioning.default(), seed=seed)
        info["compose_s"] = round(time.perf_counter() - t0, 3)
        info["source"] = "model"
        info["checkpoint"] = str(checkpoint)
        info["model"] = f"{bundle.model_name} {bundle.model_version}"
        return comp.midi, info
    t0 = time.perf_counter()
    piece = corpus_piece(FALLBACK_PIECE)
    info["compose_s"] = round(time.perf_counter() - t0, 3)
    info["source"] = "corpus"
    info["piece"] = FALLBACK_PIECE
    info["reason"] = f"no checkpoint at {checkpoint}" if checkpoint else "composer unavailable"
    return piece, info


def _floor(midi_path: Path, wav_path: Path, master_wav: Path, soundfont: Path,
           specs: tuple[RenditionSpec, ...], workers: int) -> dict:  # fmt: skip
    fluidsynth = shutil.which("fluidsynth")
    if not fluidsynth:
        return {"error": "fluidsynth command line not installed"}
    t0 = time.perf_counter()
    subprocess.run([fluidsynth, "-ni", "-q", "-F", str(wav_path), "-r", "44100", str(soundfont),
                    str(midi_path)], check=True, capture_output=True)  # fmt: skip
    render_s = time.perf_counter() - t0
    ff = ffmpeg_binary()

    def one(spec: RenditionSpec) -> float:
        args = spec.ffmpeg_args or ("-c:a", "flac", "-sample_fmt", "s32")
        out = wav_path.with_name(f"floor-{spec.name}.{spec.extension}")
        t = time.perf_counter()
        subprocess.run([ff, "-nostdin", "-v", "error", "-y", "-i", str(master_wav), *args,
                        str(out)], check=True, capture_output=True)  # fmt: skip
        return time.perf_counter() - t

    order = sorted(specs, key=lambda s: (s.format == "flac", -(s.bitrate_kbps or 0)))
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        each = dict(zip([s.name for s in order], pool.map(one, order), strict=True))
    encode_s = time.perf_counter() - t0
    return {
        "fluidsynth_cli_render_s": round(render_s, 3),
        "encoders_s": round(encode_s, 3),
        "encoders_serial_sum_s": round(sum(each.values()), 3),
        "encoder_each_s": {k: round(v, 3) for k, v in each.items()},
        "total_s": round(render_s + encode_s, 3),
    }


def _once(piece, soundfont: Path, *, length_s: float, style: str, seed: int) -> dict:
    """One pipeline run and, right after it, the floor on the same arranged MIDI."""
    tags = TrackTags(
        title="bench", licence_id="CC-BY-4.0",
        licence_url="https://creativecommons.org/licenses/by/4.0/",
        provenance_id="bench", generator_model="cadenza", generator_version="bench",
    )  # fmt: skip
    t0 = time.perf_counter()
    result = run_pipeline(piece, style=style, seed=seed, length_s=length_s, soundfont=soundfont,
                          tags=tags, pictures=False)  # fmt: skip
    pipeline_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    from generation.audio.pictures import piano_roll_png, waveform_png

    piano_roll_png(result.midi)
    waveform_png(result.audio, result.sample_rate)
    pictures_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="cadenza-bench-") as tmp:
        import soundfile as sf

        midi_path = Path(tmp) / "arrangement.mid"
        midi_path.write_bytes(result.midi_bytes)
        master_wav = Path(tmp) / "master.wav"
        sf.write(master_wav, result.audio.T, result.sample_rate, subtype="FLOAT")
        floor = _floor(midi_path, Path(tmp) / "cli.wav", master_wav, soundfont, RENDITIONS,
                       workers=2)  # fmt: skip
    return {"result": result, "pipeline_wall_s": pipeline_wall, "pictures_s": pictures_s,
            "floor": floor}


def _median(values) -> float:
    return round(float(statistics.median(values)), 4)


def run(length_s: float = 180.0, style: str = "folk", seed: int = 7, repeats: int = 3) -> dict:
    """``repeats`` runs of compose + pipeline + floor, each pair in the same run; medians."""
    soundfont = default_soundfont()
    warm_s = warm_up(soundfont)  # a worker pays this once per process, not per track
    runs = []
    for _ in range(max(1, repeats)):
        piece, compose_info = _compose(seed)
        one = _once(piece, soundfont, length_s=length_s, style=style, seed=seed)
        one["stages"] = {"compose": compose_info["compose_s"], **one["result"].timings}
        one["compose_info"] = compose_info
        runs.append(one)
    result = runs[-1]["result"]  # the same piece and seed every run: identical audio
    stage_names = list(runs[0]["stages"])
    stages = {k: _median(r["stages"][k] for r in runs) for k in stage_names}
    totals = [sum(r["stages"].values()) for r in runs]
    floors = [r["floor"].get("total_s") or float("nan") for r in runs]
    ratios = [t / f for t, f in zip(totals, floors, strict=True)]
    ratios_nc = [(t - r["stages"]["compose"]) / f
                 for t, f, r in zip(totals, floors, runs, strict=True)]
    total = statistics.median(totals)
    floor = {k: _median(r["floor"][k] for r in runs)
             for k in ("fluidsynth_cli_render_s", "encoders_s", "encoders_serial_sum_s", "total_s")
             if k in runs[0]["floor"]}
    if "encoder_each_s" in runs[0]["floor"]:
        floor["encoder_each_s"] = {k: _median(r["floor"]["encoder_each_s"][k] for r in runs)
                                   for k in runs[0]["floor"]["encoder_each_s"]}
    cpu = {k: _median(r["result"].cpu_timings[k] for r in runs) for k in result.cpu_timings}
    compose_info = {**runs[-1]["compose_info"], "compose_s": stages["compose"]}
    return {
        "track": {"style": style, "seed": seed, "length_s": length_s,
                  "duration_s": round(result.audio.shape[1] / result.sample_rate, 3),
                  "instruments": [i.name for i in result.midi.instruments]},
        "repeats": len(runs),
        "statistic": "median over the repeats; each run's ratio uses the floor measured right "
                     "after it",
        "compose": compose_info,
        "stages_s": stages,
        "stages_cpu_s": cpu,
        "total_s": round(total, 3),
        "total_s_runs": [round(t, 3) for t in totals],
        "pipeline_wall_s": _median(r["pipeline_wall_s"] for r in runs),
        "real_time_factor": round(length_s / total, 2),
        "total_without_compose_s": _median(t - r["stages"]["compose"]
                                           for t, r in zip(totals, runs, strict=True)),
        "floor": floor,
        "floor_total_s_runs": [round(f, 3) for f in floors],
        "ratio_to_floor": _median(ratios),
        "ratio_to_floor_runs": [round(x, 3) for x in ratios],
        "ratio_to_floor_without_compose": _median(ratios_nc),
        "mastering_x_real_time": round(length_s / stages["master"], 1),
        "mastering_x_real_time_cpu": round(length_s / cpu["master"], 1),
        "render_x_real_time": round(length_s / stages["render"], 1),
        "pictures_s_outside_total": _median(r["pictures_s"] for r in runs),
        "warm_up_s_outside_total": round(warm_s, 3),
        "renditions": [{"name": r.name, "size": r.size, "bitrate_kbps": r.bitrate_kbps}
                       for r in result.renditions],  # fmt: skip
        "master": {"lufs": round(result.master_report.lufs, 3),
                   "true_peak_dbtp": round(result.master_report.true_peak_dbtp, 3),
                   "lra": round(result.master_report.lra, 2)},  # fmt: skip
        "gates": result.gates.as_dict(),
        "targets": {"total_le_20s": total <= 20.0,
                    "le_1_5x_floor": _median(ratios) <= 1.5,
                    "mastering_ge_100x": length_s / stages["master"] >= 100},  # fmt: skip
        "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only output)")
    parser.add_argument("--length", type=float, default=180.0)
    parser.add_argument("--style", default="folk")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    report = run(args.length, args.style, args.seed, args.repeats)
    print(json.dumps(report, indent=2 if not args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
