"""How fast ``ranking.rank`` ranks N candidates for one listener, on one core.

``python -m recommendations.engine.bench --sizes 100000 1000000`` prints one JSON object:
p50/p95 ms per ``rank`` call (Thompson draw, one float32 scan ``X @ θ``, the ``allowed`` mask, the
top pool, MMR) and the memory it holds: the feature matrix itself plus what one call allocates
(tracemalloc sees numpy's buffers). ``run_isolated`` starts it in a child process with the BLAS
and OpenMP thread counts set to 1 before numpy loads, so the figure is one core's.

Pure module: numpy only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _catalog(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n realistic feat-v1 rows (soft bins, one-hots, bias) and an allowed mask (~2 % barred)."""
    from recommendations.engine import features as F

    X = np.zeros((n, F.D), dtype=np.float32)
    X[:, F.I_BIAS] = 1.0
    for sl in (F.S_TEMPO, F.S_ENERGY, F.S_REGISTER, F.S_LENGTH):
        width = sl.stop - sl.start
        at = rng.integers(0, width - 1, n)
        t = rng.random(n, dtype=np.float32)
        X[np.arange(n), sl.start + at] = 1 - t
        X[np.arange(n), sl.start + at + 1] = t
    for sl in (F.S_METRE, F.S_STYLE, F.S_MOOD):
        X[np.arange(n), sl.start + rng.integers(0, sl.stop - sl.start, n)] = 1.0
    fams = rng.random((n, F.S_FAMILY.stop - F.S_FAMILY.start)) < 0.2
    X[:, F.S_FAMILY] = fams
    X[:, F.I_MINOR] = rng.integers(0, 2, n)
    X[:, F.I_KEY] = rng.uniform(-0.5, 0.5, (n, 2))
    X[:, F.I_SPAN] = rng.random(n)
    X[:, F.I_POLY] = rng.random(n)
    return X, rng.random(n) > 0.02


def bench(sizes: list[int], *, repeats: int = 50, k: int = 50, seed: int = 0) -> dict:
    from recommendations.engine import ranking
    from recommendations.engine.taste import prior_from_preferences, update

    rng = np.random.default_rng(seed)
    prefs = {"styles": ["piano", "folk"], "moods": ["calm"], "tempo_min": 60, "tempo_max": 100,
             "energy": 0.4, "mode": "minor", "exploration": 0.3}
    out: dict = {"threads": {v: os.environ.get(v) for v in THREAD_VARS}, "k": k, "repeats": repeats, "sizes": {}}
    for n in sizes:
        X, allowed = _catalog(n, rng)
        model = prior_from_preferences(prefs)
        heard = X[rng.integers(0, n, 40)]
        model = update(model, heard, rng.uniform(-1, 1, 40), np.ones(40), ages_s=np.zeros(40), now=1.0)
        recent = heard[:5]
        for _ in range(3):  # warm caches and the model's factorisation
            ranking.rank(model, X, exploration=0.3, rng=rng, k=k, allowed=allowed, recent=recent)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            ranking.rank(model, X, exploration=0.3, rng=rng, k=k, allowed=allowed, recent=recent)
            times.append((time.perf_counter() - t0) * 1000)
        tracemalloc.start()
        ranking.rank(model, X, exploration=0.3, rng=rng, k=k, allowed=allowed, recent=recent)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        t0 = time.perf_counter()
        for _ in range(repeats):
            X @ model.mean32
        scan = (time.perf_counter() - t0) * 1000 / repeats
        out["sizes"][str(n)] = {
            "p50_ms": round(_percentile(times, 50), 2),
            "p95_ms": round(_percentile(times, 95), 2),
            "scan_only_ms": round(scan, 2),
            "matrix_mb": round(X.nbytes / 2**20, 1),
            "per_call_peak_mb": round(peak / 2**20, 1),
        }
    return out


def run_isolated(sizes: list[int], *, repeats: int = 50, k: int = 50) -> dict:
    """``bench`` in a child process pinned to one BLAS/OpenMP thread."""
    env = {**os.environ, **dict.fromkeys(THREAD_VARS, "1")}
    cmd = [sys.executable, "-m", "recommendations.engine.bench", "--repeats", str(repeats), "--k", str(k),
           "--sizes", *map(str, sizes)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--k", type=int, default=50)
    args = parser.parse_args(argv)
    print(json.dumps(bench(args.sizes, repeats=args.repeats, k=args.k)))


if __name__ == "__main__":
    main()
