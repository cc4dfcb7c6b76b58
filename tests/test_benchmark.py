"""benchmarks/benchmark.py runs: its throughput part on a few hundred synthetic images (one epoch, one repeat) gives
positive, finite figures and writes them where it is told, and its study-run table renders every kind of run."""

import importlib.util
import json
import math

import numpy as np
import pytest

import helpers

IMAGES = 300  #: labelled and unlabelled images of the smoke run


@pytest.fixture(scope="module")
def benchmark():
    """benchmarks/benchmark.py as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("benchmark", helpers.ROOT / "benchmarks" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic(images: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random model inputs in place of the split's labelled images, labels and unlabelled images."""
    rng = np.random.default_rng(0)
    n = images or IMAGES
    return (rng.random((n, 28, 28, 1), dtype="float32"), rng.integers(0, 10, n).astype("int32"),
            rng.random((n, 28, 28, 1), dtype="float32"))


def finite_numbers(value):
    """Every number in a nested result."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in finite_numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in finite_numbers(v)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def test_the_throughput_part_runs_on_tiny_sizes(benchmark, tmp_path, monkeypatch):
    monkeypatch.setattr(benchmark, "labelled_and_unlabelled", synthetic)
    results = helpers.ROOT / "benchmarks" / "results"
    before = {p.name: p.stat().st_mtime_ns for p in results.iterdir()} if results.exists() else {}
    benchmark.main(["--images", str(IMAGES), "--epochs", "1", "--repeats", "1", "--out", str(tmp_path)])

    result = json.loads((tmp_path / "benchmark.json").read_text())
    assert result["images"] == {"labelled": IMAGES, "unlabelled": IMAGES}
    s, p, b = result["supervised_images_per_s"], result["pretext_pairs_per_s"], result["bottleneck"]
    for figure in (s["project"], s["bare_fit"], s["bare_fit_steps_per_execution"], s["ratio"], s["ratio_to_that"],
                   p["project"], p["straightforward"], p["ratio"], p["views_ratio"], b["bare_fit_gflops"],
                   b["matmul_gflops"], b["full_profile_fits"]["minutes_at_bare_fit_rate"]):
        assert math.isfinite(figure) and figure > 0
    assert len(s["runs"]["project"]) == len(p["runs"]["straightforward"]) == 1
    assert all(math.isfinite(n) and n >= 0 for n in finite_numbers(result))
    assert "| supervised training, images/s" in (tmp_path / "benchmark.md").read_text()
    after = {p.name: p.stat().st_mtime_ns for p in results.iterdir()} if results.exists() else {}
    assert after == before  # nothing written into benchmarks/results


def test_the_study_run_table_shows_every_kind_of_run(benchmark):
    def run(seconds, before, after, **extra):
        return {"seconds": seconds, "fits_before": before, "fits_after": after, "date": "2026-01-01 00:00", **extra}

    record = {"date": "2026-01-01 00:00", "machine": "x86_64, 2 cores", "runs": {
        "unchanged": run(42.0, 1079, 1079, runs_seconds=[40.0, 44.0]),
        "quick": run(120.0, 0, 20),
        "quick-interrupted": {"interrupted": run(60.0, 0, 8), "resumed": run(70.0, 8, 20), "total_seconds": 130.0}}}
    table = benchmark.runs_markdown(record)
    assert "| full profile again, nothing changed: from a copy of the committed fit cache, `--jobs 2` (median of 2 " \
           "runs: 0.7, 0.7 min) | 0.7 min | 0 |" in table
    assert "quick profile from an empty fit cache, default jobs, Ctrl-C after 1.0 min | 1.0 min | 8 kept |" in table
    assert "| … then run again: it continues from the cache | 1.2 min | 12 |" in table
    assert "| both parts | 2.2 min | 20 |" in table
    assert benchmark.default_interrupt("quick-interrupted", record["runs"]) == 60.0
    assert benchmark.default_interrupt("sequential-interrupted", record["runs"]) is None
