"""Real compose runs for the evaluation: requests → tracks → measured attributes, as a data file.

``python manage.py evaluate_recs --compose-sample N`` composes N tracks with the real model and
arranger (``generation.model.compose.compose`` then ``generation.audio.arrange.arrange``, the
compose and arrange stages of the pipeline; rendering and mastering change no symbolic
attribute) from requests drawn across styles, moods and the stated ranges listeners can set,
measures each arrangement as heard (``generation.audio.heard.heard_attributes``: what the arrange
stage stores as a published track's ``measured``, tempo and metre from the onsets), and writes
``recommendations/engine/data/tracks.json``. The simulator's documents are these tracks, and
``Calibration`` (in ``simulator.py``) learns from the same runs how a request maps to what is
measured, so compose-next in the simulation delivers what the pipeline really delivers.

The model and the arranger improve over time: regenerate the file with the same command (it
records the checkpoint, the code revision and when it was made). The run is resumable: finished
tracks are kept in ``tracks.json.partial`` (one JSON line each) until the file is written.

No Django; torch is imported only by ``compose_one``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from generation.audio.styles import STYLES
from recommendations.engine.compose_next import MOODS, candidate_requests

DATA_DIR = Path(__file__).resolve().parent / "data"
TRACKS_FILE = DATA_DIR / "tracks.json"
FORMAT = "recs-compose-runs-v1"
LENGTH_S = (30.0, 240.0)


def sample_prefs(i: int, rng: np.random.Generator) -> dict:
    """Stated preferences for the i-th sample: styles and moods in turn, ranges drawn wide, an
    avoided instrument now and then, so the runs cover what requests can ask."""
    styles = list(STYLES)
    moods = [*MOODS, None]
    style = styles[i % len(styles)]
    mood = moods[(i // len(styles)) % len(moods)]
    centre = float(np.exp(rng.uniform(math.log(55), math.log(170))))
    width = float(rng.uniform(10, 50))
    avoided = []
    if rng.random() < 0.15:
        avoidable = [f for f in STYLES[style].primary_families if f not in STYLES[style].parts[0].families]
        if avoidable:
            avoided = [avoidable[int(rng.integers(len(avoidable)))]]
    lo_len = float(rng.uniform(LENGTH_S[0], LENGTH_S[1] - 30))
    return {
        "styles": [style],
        "moods": [mood] if mood else [],
        "tempo_min": int(max(40, centre - width / 2)),
        "tempo_max": int(min(220, centre + width / 2)),
        "energy": float(rng.random()),
        "mode": ("major", "minor", "any")[int(rng.integers(3))],
        "preferred_instruments": [],
        "avoided_instruments": avoided,
        "length_min_s": int(lo_len),
        "length_max_s": int(min(LENGTH_S[1], lo_len + rng.uniform(10, 90))),
        "exploration": 0.5,
    }


def sample_requests(n: int, *, seed: int) -> Iterator[tuple[int, dict, int]]:
    """(index, request, compose seed) for the n samples; deterministic for a seed."""
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        request = candidate_requests(sample_prefs(i, rng), rng=rng, count=1)[0]
        yield i, request, int(rng.integers(2**31 - 1))


def compose_one(bundle, request: dict, seed: int, compose_options: dict) -> dict:
    """Compose and arrange one request; the measured attributes of both (as heard: arranged)."""
    from generation.audio.arrange import arrange
    from generation.audio.heard import heard_attributes
    from generation.model.compose import compose
    from generation.model.conditioning import Conditioning

    cond = Conditioning(
        tempo_bpm=request["tempo_bpm"], key_tonic=request["key_tonic"], mode=request["mode"],
        time_signature=request["time_signature"], density=request["density"],
        register=request["register"], polyphony=request["polyphony"],
        length_bars=request["length_bars"], families=tuple(request["families"]),
    ).validate()
    started = time.perf_counter()
    piece = compose(bundle, cond, seed=seed, **compose_options)
    arranged = arrange(piece.midi, request["style"], seed=seed, length_s=request["length_s"],
                       avoid_instruments=request["avoid_instruments"], tempo_bpm=cond.tempo_bpm,
                       key=(cond.key_tonic, cond.mode))
    return {
        "request": request,
        "seed": seed,
        "style": request["style"],
        "mood": request["mood"],
        "duration_s": round(float(arranged.get_end_time()), 2),
        "composed": _plain(piece.measured.as_dict()),
        "measured": _plain(heard_attributes(arranged)),  # what a published track's `measured` holds
        "seconds": round(time.perf_counter() - started, 2),
    }


def _plain(d: dict) -> dict:
    return json.loads(json.dumps(d, default=lambda x: x.item() if hasattr(x, "item") else str(x)))


def build(n: int, *, bundle, compose_options: dict, seed: int = 20261202, out: Path = TRACKS_FILE,
          meta: dict | None = None, progress: Callable[[int, int, dict | None], None] | None = None) -> dict:
    """Compose ``n`` sample tracks (resuming from ``out``.partial) and write ``out``."""
    partial = out.with_name(out.name + ".partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    done: dict[int, dict] = {}
    if partial.exists():
        for line in partial.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                done[row["index"]] = row
    failures = 0
    with partial.open("a") as fh:
        for i, request, compose_seed in sample_requests(n, seed=seed):
            if i in done:
                continue
            try:
                row = {"index": i, **compose_one(bundle, request, compose_seed, compose_options)}
            except (ValueError, RuntimeError) as exc:
                row = {"index": i, "request": request, "error": f"{type(exc).__name__}: {exc}"}
                failures += 1
            done[i] = row
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            if progress:
                progress(len(done), n, row)
    rows = [done[i] for i in sorted(done) if i < n]
    data = {
        "format": FORMAT,
        "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "how": "heard_attributes(arrange(compose(request))) per request; measured = the arrangement as heard",
        "seed": seed,
        **(meta or {}),
        "tracks": [r for r in rows if "error" not in r],
        "failures": [r for r in rows if "error" in r],
    }
    out.write_text(json.dumps(data, indent=None, separators=(",", ":")) + "\n")
    partial.unlink()
    return data


def load(path: Path = TRACKS_FILE) -> dict:
    """The committed compose runs (FileNotFoundError names the command that makes them)."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: make it with `python manage.py evaluate_recs --compose-sample 200`")
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: format {data.get('format')!r} is not {FORMAT}")
    return data
