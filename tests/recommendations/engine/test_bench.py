"""bench_ranking's pure part measures what it says: one thread, the sizes asked, sane figures."""

from recommendations.engine.bench import run_isolated


def test_it_ranks_on_one_thread_and_reports_percentiles_and_memory():
    report = run_isolated([20_000], repeats=5, k=20)
    assert report["threads"]["OPENBLAS_NUM_THREADS"] == "1"
    row = report["sizes"]["20000"]
    assert 0 < row["p50_ms"] <= row["p95_ms"]
    assert row["matrix_mb"] > 4  # 20,000 x 59 float32
