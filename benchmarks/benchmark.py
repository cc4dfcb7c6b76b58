"""Throughput and wall-time benchmark of the study, measured in one run.

    .venv/bin/python benchmarks/benchmark.py            # throughput and bottleneck only
    .venv/bin/python benchmarks/benchmark.py --study    # also runs the quick profile of the study and reads the
                                                        # full profile's timings from artefacts/full/timings.json

Measures, with the median of ``--repeats`` runs (the runs of the two sides of each ratio interleaved):

1. supervised training: images/s of one fit through the project's path (`helpers.fit_classifier`: augmentation,
   validation, cosine schedule, early-stopping bookkeeping) against a bare ``model.fit`` of the same model on
   in-memory arrays with Keras' defaults, and against the same bare fit with the project's ``steps_per_execution``;
2. Siamese pretext: pairs/s of the project's pretext (`helpers.build_siamese`: pairs made and augmented inside the
   model, on the device, augmentation included) against a straightforward Keras implementation written here
   (random-augmentation layers inside a two-input model, pairs materialised as arrays, batch 128). The project
   encodes each augmented view once and uses it in two pairs, so it also reports views/s (encoder passes), where
   that reuse does not count;
3. the bottleneck: the CNN's arithmetic per training image, the rate it runs at in the bare fit (GFLOP/s), and this
   machine's float32 matrix-multiply rate (numpy) for scale;
4. with ``--study``: wall time of each notebook in the quick profile, the full profile's recorded times, and the
   largest peak memory of a notebook kernel.

Prints a table and writes ``benchmarks/results/benchmark.json`` and ``benchmark.md``.

    .venv/bin/python benchmarks/benchmark.py --runs empty-jobs2 unchanged only-06 sequential-interrupted --readme

measures instead the study as a user runs it (``run_study.py --no-publish`` subprocesses with a scratch fit cache, so
nothing committed is touched): the full profile from an empty fit cache with two parallel jobs, again with nothing
changed, after an edit to notebook 6 alone, and sequentially from an empty cache with a Ctrl-C at about half-way
followed by the run that continues from the cache; results in ``benchmarks/results/study_runs.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import helpers
from ssl_study.readme import replace_readme_block
from ssl_study.tasks import count_cached

ROOT = helpers.ROOT
keras = helpers.import_keras()
OUT = ROOT / "benchmarks" / "results"


def labelled_and_unlabelled() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The full split's labelled images and labels, and its unlabelled images, as model inputs."""
    mnist = helpers.load_mnist(verbose=False)
    split = helpers.load_split(helpers.get_profile("full"), mnist)
    x = helpers.to_model_input(mnist.images)
    return x[split["labelled"]], mnist.labels[split["labelled"]].astype("int32"), x[split["unlabelled"]]


def project_fit(x: np.ndarray, y: np.ndarray, epochs: int) -> float:
    """Images/s of `helpers.fit_classifier` (90 % train, 10 % validation, as in the notebooks)."""
    n_val = len(x) // 10
    model = helpers.build_classifier()
    fit = helpers.fit_classifier(model, x[n_val:], y[n_val:], x[:n_val], y[:n_val], epochs, 128, seed=0)
    return (len(x) - n_val) * fit["epochs"] / fit["seconds"]


def bare_fit(x: np.ndarray, y: np.ndarray, epochs: int, steps_per_execution: int = 1) -> float:
    """Images/s of a bare ``model.fit`` on in-memory arrays, same model, batch and training-set size."""
    n_val = len(x) // 10
    model = helpers.build_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    start = time.perf_counter()
    model.fit(x[n_val:], y[n_val:], batch_size=128, epochs=epochs, verbose=0)
    return (len(x) - n_val) * epochs / (time.perf_counter() - start)


def project_pretext(x: np.ndarray, epochs: int) -> float:
    """Pairs/s of the project's pretext training (`helpers.pretrain` of the Siamese task: pairs made and augmented in
    the model; a batch of B images is 2B pairs). 256 held-out images are scored after each epoch, as in notebook 4."""
    keras.utils.set_random_seed(0)
    run = helpers.pretrain(helpers.get_pretext("siamese"), helpers.build_encoder(), x[256:], x[:256], 0, epochs)
    return 2 * (len(x) - 256) * epochs / run["seconds"]


def straightforward_pretext(x: np.ndarray, epochs: int) -> float:
    """Pairs/s of a straightforward Siamese pretext: augmentation layers in a two-input model, batch 128."""
    from keras import layers

    keras.utils.set_random_seed(0)
    augment = keras.Sequential([
        layers.RandomFlip("horizontal"), layers.RandomRotation(0.08), layers.RandomZoom(0.15),
        layers.RandomTranslation(0.12, 0.12), layers.RandomGaussianBlur(factor=1.0, sigma=(0.1, 1.2),
                                                                         value_range=(0, 1)),
        layers.GaussianNoise(0.08),
    ])
    encoder = keras.Sequential([
        keras.Input((28, 28, 1)), layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        layers.MaxPooling2D(2), layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(),
    ])
    a, b = keras.Input((28, 28, 1)), keras.Input((28, 28, 1))
    ea, eb = encoder(augment(a)), encoder(augment(b))
    d = layers.Lambda(lambda t: keras.ops.abs(t[0] - t[1]))([ea, eb])
    model = keras.Model([a, b], layers.Dense(1, activation="sigmoid")(layers.Dense(64, activation="relu")(d)))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(epochs):  # fresh pairs every epoch, materialised as arrays
        first = rng.integers(0, len(x), len(x))
        same = rng.random(len(x)) < 0.5
        second = np.where(same, first, (first + rng.integers(1, len(x), len(x))) % len(x))
        model.fit([x[first], x[second]], same.astype("float32"), batch_size=128, epochs=1, verbose=0)
    return len(x) * epochs / (time.perf_counter() - start)


def train_flops_per_image() -> float:
    """Floating-point operations of one training step per image: forward, plus twice the forward for the backward
    pass of every layer except the first convolution's input gradient (nothing upstream needs it)."""
    conv1 = 14 * 14 * 64 * 3 * 3 * 1  # multiply-adds of each layer's forward pass
    conv2 = 7 * 7 * 32 * 3 * 3 * 64
    dense = 288 * 10
    forward = 2 * (conv1 + conv2 + dense)
    return forward + 2 * 2 * (conv2 + dense) + 2 * conv1


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """This machine's float32 matrix-multiply rate through numpy (BLAS), best of ``repeats``."""
    a = np.random.default_rng(0).random((n, n), dtype="float32")
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def profile_fit(x: np.ndarray, y: np.ndarray, epochs: int) -> dict:
    """cProfile of one fit through the project's path: the share of its wall time spent inside the backend's compiled
    functions (TensorFlow's C++ runtime executing the training and validation steps) rather than in Python."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    project_fit(x, y, epochs)
    profiler.disable()
    stats = pstats.Stats(profiler)
    inside = sum(tt for (_, _, name), (_, _, tt, _, _) in stats.stats.items()
                 if "_pywrap_tfe" in name or "TFE_Py" in name)
    return {"seconds": stats.total_tt, "inside_compiled_steps": inside / stats.total_tt}


def study_floor_minutes(images_per_s: float) -> dict:
    """What the full profile's supervised and fine-tuning fits cost at ``images_per_s``: images they see, minutes."""
    profile = helpers.PROFILES["full"]
    per_seed = helpers.training_budget(profile, 28_000)["images seen"].sum()
    images = int(per_seed * len(profile.seeds) * 2)  # supervised + fine-tuned; the probe trains on cached features
    return {"images_seen": images, "minutes_at_bare_fit_rate": images / images_per_s / 60}


def device() -> str:
    """The accelerator Keras computes on, in words (``CPU`` when there is none)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return ", ".join(tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus) or "CPU"
    if backend == "jax":
        import jax

        return ", ".join(d.device_kind for d in jax.devices())
    return backend


def interleaved(*functions, repeats: int) -> list[list[float]]:
    """Run the ``functions`` in turn, ``repeats`` rounds (after one untimed warm-up of each); their runs."""
    for f in functions:
        f()
    runs = [[] for _ in functions]
    for _ in range(repeats):
        for f, r in zip(functions, runs):
            r.append(f())
    return runs


def study_times() -> dict:
    """Run the quick profile of the study in a subprocess; read the full profile's recorded timings."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run_study.py"), "--profile", "quick"], check=True,
                   stdout=subprocess.DEVNULL)
    quick_wall = time.perf_counter() - start
    times = {"quick": json.loads((helpers.ARTEFACTS_DIR / "quick" / "timings.json").read_text())}
    times["quick"]["wall_seconds_with_startup"] = round(quick_wall, 1)
    full = helpers.ARTEFACTS_DIR / "full" / "timings.json"
    if full.exists():
        times["full"] = json.loads(full.read_text())
    return times


# ----------------------------------------------------------------------------------------------------------------------
# The study as a user runs it: from an empty fit cache, again with nothing changed, after an edit to notebook 6, and
# after an interruption half-way (each `run_study.py --no-publish` in a subprocess, with a scratch fit cache, so the
# committed notebooks, artefacts and cache are never touched)
# ----------------------------------------------------------------------------------------------------------------------

RUNS = ("empty-jobs2", "unchanged", "only-06", "sequential-interrupted", "compare", "quick")


def compare_with_published() -> dict:
    """Whether the last run's staged results (``artefacts/.run-full``, e.g. of the sequential run from an empty cache)
    equal the published ones in every column but the seconds, and whether its encoders are byte-identical."""
    import pandas as pd

    staged, published = helpers.ARTEFACTS_DIR / ".run-full" / "artefacts" / "full", helpers.ARTEFACTS_DIR / "full"
    same = {}
    for name in ("results_supervised.csv", "results_pretrained.csv", "summary.csv", "gains.csv"):
        a, b = pd.read_csv(published / name), pd.read_csv(staged / name)
        same[name] = bool(a.drop(columns="seconds", errors="ignore").equals(b.drop(columns="seconds", errors="ignore")))
    for path in sorted(published.glob("encoder_*.weights.h5")):
        same[path.name] = helpers.file_sha256(path) == helpers.file_sha256(staged / path.name)
    return {"staged_from": json.loads((staged / "timings.json").read_text())["finished"], "equal": same,
            "all_equal": all(same.values())}


def timed_run(cache: Path, *args: str, interrupt_after: float | None = None) -> dict:
    """Wall time of ``run_study.py --no-publish ARGS`` with the fit cache at ``cache``; with ``interrupt_after``,
    SIGINT to its whole process group after that many seconds (as Ctrl-C in a terminal does)."""
    import signal

    env = {**os.environ, "SSL_FIT_CACHE": str(cache)}
    before = count_cached(cache)
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "run_study.py"), "--no-publish", *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=interrupt_after)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate()
    seconds = time.perf_counter() - start
    last = [line for line in output.splitlines() if line.startswith("[")][-1:]
    return {"command": "run_study.py --no-publish " + " ".join(args), "seconds": round(seconds, 1),
            "returncode": process.returncode, "fits_before": before, "fits_after": count_cached(cache),
            "last_line": last[0] if last else ""}


def study_runs(which: list[str], scratch: Path, interrupt_after: float | None) -> dict:
    """The measurements named in ``which`` (see `RUNS`), in that order; a cache per scenario under ``scratch``."""
    results = {}
    parallel, sequential = scratch / "cache-jobs2", scratch / "cache-sequential"
    for name in which:
        print(f"[benchmark] {name} ...", flush=True)
        if name == "empty-jobs2":
            shutil.rmtree(parallel, ignore_errors=True)
            results[name] = timed_run(parallel, "--jobs", "2")
        elif name == "unchanged":
            results[name] = timed_run(parallel, "--jobs", "2")
        elif name == "only-06":
            results[name] = timed_run(parallel, "--jobs", "2", "--only", helpers.NOTEBOOK_COMPARISON)
        elif name == "quick":  # the CI profile, from an empty fit cache
            shutil.rmtree(scratch / "cache-quick", ignore_errors=True)
            results[name] = timed_run(scratch / "cache-quick", "--profile", "quick")
        elif name == "compare":
            results[name] = compare_with_published()
        elif name == "sequential-interrupted":
            shutil.rmtree(sequential, ignore_errors=True)
            first = timed_run(sequential, "--jobs", "1", interrupt_after=interrupt_after)
            resumed = timed_run(sequential, "--jobs", "1")
            results[name] = {"interrupted": first, "resumed": resumed,
                             "total_seconds": round(first["seconds"] + resumed["seconds"], 1)}
        print(f"[benchmark] {name}: {json.dumps(results[name])}", flush=True)
    return results


def runs_markdown(r: dict) -> str:
    """The study-run measurements as a table."""
    rows = []
    labels = {"empty-jobs2": "full profile from an empty fit cache, `--jobs 2`",
              "unchanged": "full profile again, nothing changed (every fit from the cache)",
              "only-06": "after an edit to notebook 6 alone: `--only 06_comparison.ipynb`"}
    for name, label in labels.items():
        if name in r["runs"]:
            run = r["runs"][name]
            rows.append(f"| {label} | {run['seconds'] / 60:.1f} min | {run['fits_after'] - run['fits_before']} |")
    if "sequential-interrupted" in r["runs"]:
        s = r["runs"]["sequential-interrupted"]
        rows.append(f"| full profile from an empty fit cache, `--jobs 1`, Ctrl-C after "
                    f"{s['interrupted']['seconds'] / 60:.1f} min | {s['interrupted']['seconds'] / 60:.1f} min | "
                    f"{s['interrupted']['fits_after']} kept |")
        rows.append(f"| … then run again: it continues from the cache | {s['resumed']['seconds'] / 60:.1f} min | "
                    f"{s['resumed']['fits_after'] - s['resumed']['fits_before']} |")
        rows.append(f"| sequential from an empty cache, both parts | {s['total_seconds'] / 60:.1f} min | "
                    f"{s['resumed']['fits_after']} |")
    if "quick" in r["runs"]:
        q = r["runs"]["quick"]
        rows.append(f"| quick profile (CI) from an empty fit cache, default jobs | {q['seconds'] / 60:.1f} min | "
                    f"{q['fits_after'] - q['fits_before']} |")
    if "compare" in r["runs"]:
        c = r["runs"]["compare"]
        rows.append(f"| the sequential run's results (staged {c['staged_from']}) against the committed ones, seconds aside | "
                    f"{'identical' if c['all_equal'] else 'DIFFERENT'} | {sum(c['equal'].values())} of "
                    f"{len(c['equal'])} files equal |")
    return (f"Measured {r['date']} on {r['machine']} (`benchmarks/benchmark.py --runs {' '.join(r['runs'])}`, in that order; each "
            "a `run_study.py --no-publish` subprocess with a scratch fit cache):\n\n"
            "| run | wall time | fits and pretext runs computed |\n|---|---:|---:|\n" + "\n".join(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed supervised fit / pretext run")
    parser.add_argument("--study", action="store_true", help="also time the study's notebooks (quick profile)")
    parser.add_argument("--readme", action="store_true", help="also write the table into README.md's benchmark block")
    parser.add_argument("--runs", nargs="+", choices=RUNS, help="measure these runs of the study instead (see RUNS)")
    parser.add_argument("--interrupt-after", type=float, default=None,
                        help="sequential-interrupted: seconds before the Ctrl-C (default: the empty-jobs2 time)")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: write benchmark.md (and the README block) again from benchmark.json")
    args = parser.parse_args()
    if args.render:
        return write(json.loads((OUT / "benchmark.json").read_text()), args.readme)

    if args.runs:
        return record_runs(args)
    x_lab, y_lab, x_unl = labelled_and_unlabelled()
    fit_project, fit_bare, fit_bare_steps = interleaved(
        lambda: project_fit(x_lab, y_lab, args.epochs), lambda: bare_fit(x_lab, y_lab, args.epochs),
        lambda: bare_fit(x_lab, y_lab, args.epochs, helpers.STEPS_PER_EXECUTION), repeats=args.repeats)
    pre_project, pre_plain = interleaved(lambda: project_pretext(x_unl, 1), lambda: straightforward_pretext(x_unl, 1),
                                         repeats=args.repeats)
    med = lambda runs: float(np.median(runs))  # noqa: E731
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "backend": keras.backend.backend(),
        "device": device(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "repeats": args.repeats,
        "supervised_images_per_s": {"project": med(fit_project), "bare_fit": med(fit_bare),
                                    "ratio": med(fit_project) / med(fit_bare),
                                    "bare_fit_steps_per_execution": med(fit_bare_steps),
                                    "ratio_to_that": med(fit_project) / med(fit_bare_steps),
                                    "runs": {"project": fit_project, "bare_fit": fit_bare,
                                             "bare_fit_steps_per_execution": fit_bare_steps}},
        "pretext_pairs_per_s": {"project": med(pre_project), "straightforward": med(pre_plain),
                                "ratio": med(pre_project) / med(pre_plain),
                                # views (encoder passes): 1 per pair in the project, 2 per pair in the reference
                                "views_per_s": {"project": med(pre_project), "straightforward": 2 * med(pre_plain)},
                                "views_ratio": med(pre_project) / (2 * med(pre_plain)),
                                "runs": {"project": pre_project, "straightforward": pre_plain}},
        "bottleneck": {"train_mflop_per_image": train_flops_per_image() / 1e6,
                       "bare_fit_gflops": med(fit_bare) * train_flops_per_image() / 1e9,
                       "matmul_gflops": matmul_gflops(),
                       "profile_of_project_fit": profile_fit(x_lab, y_lab, args.epochs) if keras.backend.backend()
                       == "tensorflow" else None,
                       "full_profile_fits": study_floor_minutes(med(fit_bare))},
        "peak_memory_mb_this_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if args.study:
        result["study"] = study_times()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "benchmark.json").write_text(json.dumps(result, indent=2))
    write(result, args.readme)


def record_runs(args) -> None:
    """Measure ``args.runs``, merge them into ``study_runs.json``, write ``study_runs.md`` and the README block."""
    import tempfile

    path = OUT / "study_runs.json"
    record = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    interrupt_after = args.interrupt_after
    with tempfile.TemporaryDirectory(prefix="ssl-benchmark-") as scratch:
        for name in args.runs:
            if name == "sequential-interrupted" and interrupt_after is None:  # about half of a sequential run
                interrupt_after = record["runs"]["empty-jobs2"]["seconds"]
            record["runs"].update(study_runs([name], Path(scratch), interrupt_after))
            record.update(date=time.strftime("%Y-%m-%d %H:%M"),
                          machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=2))
    (OUT / "study_runs.md").write_text(runs_markdown(record))
    print(runs_markdown(record))
    if args.readme:
        replace_readme_block("study-runs", "<!-- study-runs:start (written by benchmarks/benchmark.py --runs --readme; "
                                           "do not edit by hand) -->\n" + runs_markdown(record) + "<!-- study-runs:end -->")


def write(result: dict, readme: bool) -> None:
    """Write ``benchmark.md``, print it, and with ``readme`` put it into README.md's benchmark block."""
    (OUT / "benchmark.md").write_text(markdown(result))
    print(markdown(result))
    if readme:
        replace_readme_block("benchmark", "<!-- benchmark:start (written by benchmarks/benchmark.py --readme; do not "
                                          "edit by hand) -->\n" + markdown(result) + "<!-- benchmark:end -->")


def markdown(r: dict) -> str:
    s, p, b = r["supervised_images_per_s"], r["pretext_pairs_per_s"], r["bottleneck"]
    lines = [
        f"Measured {r['date']} on {r['machine']}, device {r.get('device', 'CPU')}, Keras backend {r['backend']}; "
        f"medians of {r['repeats']} runs.",
        "",
        "| measure | project | reference | ratio |",
        "|---|---:|---:|---:|",
        f"| supervised training, images/s (reference: bare `model.fit`, Keras defaults) | {s['project']:,.0f} | "
        f"{s['bare_fit']:,.0f} | {s['ratio']:.2f} |",
        f"| supervised training, images/s (reference: bare `model.fit`, steps_per_execution="
        f"{helpers.STEPS_PER_EXECUTION}) | {s['project']:,.0f} | {s['bare_fit_steps_per_execution']:,.0f} | "
        f"{s['ratio_to_that']:.2f} |",
        f"| Siamese pretext, pairs/s (reference: straightforward Keras) | {p['project']:,.0f} | "
        f"{p['straightforward']:,.0f} | {p['ratio']:.2f} |",
        f"| Siamese pretext, augmented views encoded/s (same runs) | {p['views_per_s']['project']:,.0f} | "
        f"{p['views_per_s']['straightforward']:,.0f} | {p['views_ratio']:.2f} |",
        "",
        f"Bottleneck: one training step costs {b['train_mflop_per_image']:.1f} MFLOP per image (two convolutions); the "
        f"bare fit runs them at {b['bare_fit_gflops']:.0f} GFLOP/s, against {b['matmul_gflops']:.0f} GFLOP/s for a "
        f"float32 matrix product on this machine ({b['bare_fit_gflops'] / b['matmul_gflops']:.0%}). "
        + (f"cProfile of a project fit: {b['profile_of_project_fit']['inside_compiled_steps']:.0%} of its time is "
           "spent inside TensorFlow's compiled steps, the rest in Python (building and tracing the model, Keras' "
           "loop, callbacks). "
           if b.get("profile_of_project_fit") else "")
        + f"The full profile's fits (supervised and fine-tuned, 3 seeds) see {b['full_profile_fits']['images_seen']:,} "
        f"images: {b['full_profile_fits']['minutes_at_bare_fit_rate']:.0f} minutes at the bare-fit rate.",
        "",
        f"Peak memory of the benchmark process: {r['peak_memory_mb_this_process']:,.0f} MB.",
    ]
    for name, t in r.get("study", {}).items():
        lines += ["", f"Study, {name} profile ({t['finished']}): {t['total_seconds']:.0f} s in all; "
                  f"largest kernel peak {t['notebooks'][-1]['kernel_peak_mb_so_far']:,} MB.", "",
                  "| notebook | seconds |", "|---|---:|"]
        lines += [f"| {n['notebook']} | {n['seconds']:.0f} |" for n in t["notebooks"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
