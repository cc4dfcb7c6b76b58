"""Throughput and wall-time benchmark of the study, measured in one run.

    .venv/bin/python benchmarks/benchmark.py            # throughput and bottleneck only
    .venv/bin/python benchmarks/benchmark.py --images 300 --epochs 1 --repeats 1 --out /tmp/bench   # a smoke run
    .venv/bin/python benchmarks/benchmark.py --study    # also runs the quick profile of the study and reads the
                                                        # full profile's timings from artefacts/full/timings.json

Measures, with the median of ``--repeats`` runs (the runs of the two sides of each ratio interleaved):

1. supervised training: images/s of one fit through the project's training path (`helpers.train_supervised`, which
   trains with `helpers.fit_classifier`: light augmentation on the device, Adam with a cosine-decaying learning rate,
   ``steps_per_execution``, a fixed number of epochs on every image given -- nothing held out, no validation, no early
   stopping) against a bare ``model.fit`` of the same model on the same in-memory images with Keras' defaults, and
   against the same bare fit with the project's ``steps_per_execution``. Only the fits are timed, not building and
   compiling the models;
2. Siamese pretext: pairs/s of the project's pretext (`helpers.build_siamese`: pairs made and augmented inside the
   model, on the device, augmentation included) against a straightforward Keras implementation written here
   (random-augmentation layers inside a two-input model, pairs materialised as arrays, batch 128). The project
   encodes each augmented view once and uses it in two pairs, so it also reports views/s (encoder passes), where
   that reuse does not count;
3. the bottleneck: the CNN's arithmetic per training image, the rate it runs at in the bare fit (GFLOP/s), and this
   machine's float32 matrix-multiply rate (numpy) for scale;
4. with ``--study``: wall time of each notebook in the quick profile, the full profile's recorded times, and the
   largest peak memory of a notebook kernel.

Prints a table and writes ``benchmark.json`` and ``benchmark.md`` into ``--out`` (default ``benchmarks/results/``).
``--images N`` measures on the first N labelled and N unlabelled images instead of all of them (a smoke run).

    .venv/bin/python benchmarks/benchmark.py --runs empty-jobs2 unchanged only-06 sequential-interrupted --readme
    .venv/bin/python benchmarks/benchmark.py --runs unchanged --times 2       # cheap: nothing is computed
    .venv/bin/python benchmarks/benchmark.py --runs quick quick-interrupted   # cheap: the quick profile

measures instead the study as a user runs it (``run_study.py --no-publish`` subprocesses, each with a fit cache in a
scratch folder, so that neither the committed cache nor the published files are touched; a run writes only its
staging folder, ``artefacts/.run-<profile>/``): see `RUNS`. Results in ``study_runs.json`` and ``study_runs.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

import helpers
from ssl_study.executor import COMPUTED_FILE, count_cached, noted_keys
from ssl_study.readme import replace_readme_block
from ssl_study.publishing import stage_of

SPEED_DOC = helpers.ROOT / "docs" / "speed.md"  #: the page with the measured blocks (the README links it)

ROOT = helpers.ROOT
keras = helpers.import_keras()
OUT = ROOT / "benchmarks" / "results"
BATCH = 128  #: the batch of every supervised fit (the profiles' ``batch_size``)
HELD_OUT = 256  #: unlabelled images the project's pretext scores after each epoch, as in notebook 4


def machine() -> str:
    """This machine, in words."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def labelled_and_unlabelled(images: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The full split's labelled images and labels, and its unlabelled images, as model inputs (with ``images``, the
    first that many of each)."""
    mnist = helpers.load_mnist(verbose=False)
    split = helpers.load_split(helpers.get_profile("full"), mnist)
    labelled, unlabelled = split["labelled"][:images], split["unlabelled"][:images]
    x = helpers.to_model_input(mnist.images)
    return x[labelled], mnist.labels[labelled].astype("int32"), x[unlabelled]


def epoch_set(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The images one epoch of `helpers.fit_classifier` goes through: ``x`` itself, or repeated where it holds fewer
    than the recipe's ``min_epoch_images``."""
    repeats = math.ceil(helpers.Recipe().min_epoch_images / len(x))
    return (np.concatenate([x] * repeats), np.concatenate([y] * repeats)) if repeats > 1 else (x, y)


def project_fit(x: np.ndarray, y: np.ndarray, epochs: int) -> float:
    """Images/s of one supervised fit through the project's path (`helpers.train_supervised`: the CNN built under seed
    0, then `helpers.fit_classifier` on every image given: augmentation, cosine schedule, ``steps_per_execution``);
    the fit alone is timed."""
    _, fit = helpers.train_supervised(x, y, epochs, BATCH, seed=0)
    return len(epoch_set(x, y)[0]) * fit["epochs"] / fit["seconds"]


def bare_fit(x: np.ndarray, y: np.ndarray, epochs: int, steps_per_execution: int = 1) -> float:
    """Images/s of a bare ``model.fit`` on in-memory arrays: same model, batch and images per epoch, no augmentation,
    constant learning rate."""
    x, y = epoch_set(x, y)
    model = helpers.build_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0)
    return len(x) * epochs / (time.perf_counter() - start)


def held_out(n: int) -> int:
    """How many of ``n`` unlabelled images the project's pretext holds out for its score: `HELD_OUT`, fewer (a
    quarter) in a smoke run on few images."""
    return min(HELD_OUT, n // 4)


def project_pretext(x: np.ndarray, epochs: int) -> float:
    """Pairs/s of the project's pretext training (`helpers.pretrain` of the Siamese task: pairs made and augmented in
    the model; a batch of B images is 2B pairs). The held-out images are scored after each epoch, as in notebook 4."""
    keras.utils.set_random_seed(0)
    n_val = held_out(len(x))
    run = helpers.pretrain(helpers.get_pretext("siamese"), helpers.build_encoder(), x[n_val:], x[:n_val], 0, epochs)
    return 2 * (len(x) - n_val) * epochs / run["seconds"]


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
    functions (TensorFlow's C++ runtime executing the training steps) rather than in Python."""
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


def full_profile_fits(images_per_s: float) -> dict:
    """What the full profile's supervised fits and Siamese fine-tunings (every label amount, more seeds at the primary
    amounts, as notebooks 2 and 5 plan them) cost at ``images_per_s``: fits, images they see, minutes."""
    profile = helpers.PROFILES["full"]
    budget = helpers.training_budget(profile, 28_000)
    seeds = budget["amount"].map(lambda amount: len(profile.seeds_of("none", "supervised", amount)))
    images = int(2 * (budget["images seen"] * seeds).sum())  # supervised + fine-tuned: the same plan
    return {"fits": int(2 * seeds.sum()), "images_seen": images, "minutes_at_bare_fit_rate": images / images_per_s / 60}


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


def interleaved(*functions: Callable[[], float], repeats: int) -> list[list[float]]:
    """Run the ``functions`` in turn, ``repeats`` rounds (after one untimed warm-up of each); their runs."""
    for f in functions:
        f()
    runs: list[list[float]] = [[] for _ in functions]
    for _ in range(repeats):
        for f, r in zip(functions, runs):
            r.append(f())
    return runs


def measure(x_lab: np.ndarray, y_lab: np.ndarray, x_unl: np.ndarray, epochs: int, repeats: int) -> dict:
    """The throughput and bottleneck measurements (1-3 of the module's docstring) on these images: medians of
    ``repeats`` runs of ``epochs`` epochs (the pretexts: one epoch)."""
    fit_project, fit_bare, fit_bare_steps = interleaved(
        lambda: project_fit(x_lab, y_lab, epochs), lambda: bare_fit(x_lab, y_lab, epochs),
        lambda: bare_fit(x_lab, y_lab, epochs, helpers.STEPS_PER_EXECUTION), repeats=repeats)
    pre_project, pre_plain = interleaved(lambda: project_pretext(x_unl, 1), lambda: straightforward_pretext(x_unl, 1),
                                         repeats=repeats)
    med = lambda runs: float(np.median(runs))  # noqa: E731
    return {
        "machine": machine(),
        "backend": keras.backend.backend(),
        "device": device(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "repeats": repeats,
        "epochs": epochs,
        "images": {"labelled": len(x_lab), "unlabelled": len(x_unl)},
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
                       "profile_of_project_fit": profile_fit(x_lab, y_lab, epochs) if keras.backend.backend()
                       == "tensorflow" else None,
                       "full_profile_fits": full_profile_fits(med(fit_bare))},
        "peak_memory_mb_this_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


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
# The study as a user runs it (each `run_study.py --no-publish` in a subprocess, with a fit cache in a scratch folder,
# so that the committed notebooks, artefacts and fit cache are never touched)
# ----------------------------------------------------------------------------------------------------------------------

#: the runs ``--runs`` can measure: the full profile from an empty fit cache with two parallel jobs; again with nothing
#: changed, from a copy of the committed fit cache (``artefacts/full/cache``; ``--times``: several runs, each from a
#: fresh copy); after an edit to notebook 6 alone (on that copy); sequentially from an empty cache with a Ctrl-C at
#: about half-way, then the run that continues from the cache; whether that sequential run's results equal the
#: published ones; the quick profile from an empty cache; and the quick profile's Ctrl-C at about half-way, then its
#: continuation
RUNS = ("empty-jobs2", "unchanged", "only-06", "sequential-interrupted", "compare", "quick", "quick-interrupted")
COMMITTED_CACHE = helpers.ARTEFACTS_DIR / "full" / "cache"


def compare_with_published() -> dict:
    """Whether the last run's staged results (``artefacts/.run-full``, e.g. of the sequential run from an empty cache)
    equal the published ones in every column but the seconds, and whether its encoders are byte-identical."""
    import pandas as pd

    staged, published = stage_of("full") / "artefacts" / "full", helpers.ARTEFACTS_DIR / "full"
    same = {}
    for name in ("results_supervised.csv", "results_pretrained.csv", "summary.csv", "gains.csv"):
        a, b = pd.read_csv(published / name), pd.read_csv(staged / name)
        same[name] = bool(a.drop(columns="seconds", errors="ignore").equals(b.drop(columns="seconds", errors="ignore")))
    for path in sorted(published.glob("encoder_*.weights.h5")):
        same[path.name] = helpers.file_sha256(path) == helpers.file_sha256(staged / path.name)
    return {"staged_from": json.loads((staged / "timings.json").read_text())["finished"], "equal": same,
            "all_equal": all(same.values())}


def study_processes() -> list[list[str]]:
    """The arguments of every ``run_study.py`` process running on this machine (read from /proc; none elsewhere)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = [a.decode(errors="replace") for a in cmdline.read_bytes().split(b"\0") if a]
        except OSError:  # the process ended meanwhile
            continue
        if any(a.endswith("run_study.py") for a in args):
            found.append(args)
    return found


def check_no_other_run(profile: str) -> None:
    """Refuse to start a run of ``profile`` while another is running: every run of a profile stages its files in the
    same folder (``artefacts/.run-<profile>``), which a new run empties."""
    for args in study_processes():
        other = args[args.index("--profile") + 1] if "--profile" in args[:-1] else os.environ.get("SSL_PROFILE", "full")
        if other == profile:
            raise RuntimeError(f"another run of the {profile} profile is running ({' '.join(args)}): it stages its "
                               f"files in {stage_of(profile).relative_to(ROOT)}, as this one would; wait for it to end")


def timed_run(cache: Path, *args: str, profile: str = "full", interrupt_after: float | None = None) -> dict:
    """Wall time of ``run_study.py --no-publish ARGS`` (a run of ``profile``) with the fit cache at ``cache``: entries
    in the cache before and after, and the tasks the run says it computed (its staging folder's list, complete for a
    run that ends; an interrupted run's in-flight stage is missing from it). With ``interrupt_after``, SIGINT to its
    whole process group after that many seconds (as Ctrl-C in a terminal does). A run that fails raises
    `RuntimeError`: its time measures nothing."""
    check_no_other_run(profile)
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
    last = [line.strip() for line in output.splitlines() if line.startswith("[")][-1:]
    expected = (0, 130) if interrupt_after is not None else (0,)  # 130: interrupted; 0: it ended before the Ctrl-C
    if process.returncode not in expected:
        raise RuntimeError(f"run_study.py {' '.join(args)} failed (exit status {process.returncode}): nothing is "
                           "recorded. Its output ends:\n" + "\n".join(output.splitlines()[-15:]))
    return {"command": "run_study.py --no-publish " + " ".join(args), "date": time.strftime("%Y-%m-%d %H:%M"),
            "seconds": round(seconds, 1), "returncode": process.returncode, "fits_before": before,
            "fits_after": count_cached(cache), "computed": len(noted_keys(stage_of(profile), COMPUTED_FILE)),
            "last_line": last[0] if last else ""}


def repeated_run(times: int, prepare: Callable[[], Path], *args: str, profile: str = "full") -> dict:
    """`timed_run` ``times`` times, each with the cache ``prepare()`` returns: the last run's record, its ``seconds``
    the median of all (each run's in ``runs_seconds``)."""
    runs = [timed_run(prepare(), *args, profile=profile) for _ in range(times)]
    seconds = [run["seconds"] for run in runs]
    return {**runs[-1], "seconds": round(float(np.median(seconds)), 1), "runs_seconds": seconds,
            "computed_each": [run["computed"] for run in runs]}


def interrupted_then_resumed(cache: Path, *args: str, profile: str, interrupt_after: float) -> dict:
    """From an empty fit cache at ``cache``: a run interrupted after ``interrupt_after`` seconds, then the run that
    continues from what it left in the cache."""
    shutil.rmtree(cache, ignore_errors=True)
    first = timed_run(cache, *args, profile=profile, interrupt_after=interrupt_after)
    resumed = timed_run(cache, *args, profile=profile)
    return {"interrupted": first, "resumed": resumed, "total_seconds": round(first["seconds"] + resumed["seconds"], 1)}


def study_runs(which: list[str], scratch: Path, interrupt_after: float | None, times: int = 1) -> dict:
    """The measurements named in ``which`` (see `RUNS`), in that order, each with its fit cache under ``scratch``;
    ``times``: runs of ``unchanged`` and ``only-06`` (the median is reported)."""
    results = {}
    parallel, committed = scratch / "cache-jobs2", scratch / "cache-committed"

    def committed_copy(fresh: bool) -> Path:
        """A copy of the committed fit cache (a fresh one with ``fresh``): the original is never written to."""
        if fresh or not committed.exists():
            shutil.rmtree(committed, ignore_errors=True)
            shutil.copytree(COMMITTED_CACHE, committed)
        return committed

    for name in which:
        print(f"[benchmark] {name} ...", flush=True)
        if name == "empty-jobs2":
            shutil.rmtree(parallel, ignore_errors=True)
            results[name] = timed_run(parallel, "--jobs", "2")
        elif name == "unchanged":
            results[name] = repeated_run(times, lambda: committed_copy(fresh=True), "--jobs", "2")
        elif name == "only-06":
            results[name] = repeated_run(times, lambda: committed_copy(fresh=False), "--jobs", "2", "--only",
                                         helpers.NOTEBOOK_COMPARISON)
        elif name == "quick":  # the CI profile, from an empty fit cache
            shutil.rmtree(scratch / "cache-quick", ignore_errors=True)
            results[name] = timed_run(scratch / "cache-quick", "--profile", "quick", profile="quick")
        elif name == "compare":
            results[name] = compare_with_published()
        elif name == "sequential-interrupted":
            results[name] = interrupted_then_resumed(scratch / "cache-sequential", "--jobs", "1", profile="full",
                                                     interrupt_after=interrupt_after)
        elif name == "quick-interrupted":
            results[name] = interrupted_then_resumed(scratch / "cache-quick-resume", "--profile", "quick",
                                                     profile="quick", interrupt_after=interrupt_after)
        print(f"[benchmark] {name}: {json.dumps(results[name])}", flush=True)
    return results


def default_interrupt(name: str, runs: dict) -> float | None:
    """Seconds before the Ctrl-C of ``name``, about half-way: the full profile with two jobs takes about half as long
    as the sequential run (``sequential-interrupted``); half of the quick profile's run from an empty cache
    (``quick-interrupted``). None for the other runs, or when the run it is derived from was never measured."""
    if name == "sequential-interrupted" and "empty-jobs2" in runs:
        return runs["empty-jobs2"]["seconds"]
    if name == "quick-interrupted" and "quick" in runs:
        return runs["quick"]["seconds"] / 2
    return None


def runs_markdown(r: dict) -> str:
    """The study-run measurements as a table."""
    rows = []
    runs = r["runs"]

    def row(label: str, run: dict, wall: str | None = None, computed: str | None = None) -> None:
        computed = computed if computed is not None else str(run["fits_after"] - run["fits_before"])
        wall = wall or f"{run['seconds'] / 60:.1f} min"
        rows.append(f"| {label} | {wall} | {computed} | {run.get('date', '')} |")

    def times(run: dict) -> str:
        n = len(run.get("runs_seconds", [run["seconds"]]))
        return f" (median of {n} runs: {', '.join(f'{s / 60:.1f}' for s in run['runs_seconds'])} min)" if n > 1 else ""

    if "empty-jobs2" in runs:
        row("full profile from an empty fit cache, `--jobs 2`", runs["empty-jobs2"])
    if "unchanged" in runs:
        row("full profile again, nothing changed: from a copy of the committed fit cache, `--jobs 2`"
            + times(runs["unchanged"]), runs["unchanged"])
    if "only-06" in runs:
        row("after an edit to notebook 6 alone: `--only 06_comparison.ipynb`" + times(runs["only-06"]), runs["only-06"])
    for name, label in (("sequential-interrupted", "full profile from an empty fit cache, `--jobs 1`"),
                        ("quick-interrupted", "quick profile from an empty fit cache, default jobs")):
        if name in runs:
            s = runs[name]
            first, resumed = s["interrupted"], s["resumed"]
            row(f"{label}, Ctrl-C after {first['seconds'] / 60:.1f} min", first,
                computed=f"{first['fits_after'] - first['fits_before']} kept")
            row("… then run again: it continues from the cache", resumed)
            row("both parts", resumed, wall=f"{s['total_seconds'] / 60:.1f} min", computed=str(resumed["fits_after"]))
    if "quick" in runs:
        row("quick profile (CI) from an empty fit cache, default jobs", runs["quick"])
    if "compare" in runs:
        c = runs["compare"]
        rows.append(f"| the sequential run's results (staged {c['staged_from']}) against the committed ones, seconds "
                    f"aside | {'identical' if c['all_equal'] else 'DIFFERENT'} | {sum(c['equal'].values())} of "
                    f"{len(c['equal'])} files equal | {c.get('date', '')} |")
    return (f"Measured on {r['machine']} with `benchmarks/benchmark.py --runs …` (last {r['date']}); each run a "
            "`run_study.py --no-publish` subprocess with a fit cache in a scratch folder:\n\n"
            "| run | wall time | fits and pretext runs computed | measured |\n|---|---:|---:|---|\n"
            + "\n".join(rows) + "\n")


def record_runs(args: argparse.Namespace) -> None:
    """Measure ``args.runs``, merge them into ``study_runs.json``, write ``study_runs.md`` and the block of docs/speed.md."""
    path = args.out / "study_runs.json"
    record = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    for run in record["runs"].values():  # a record from before runs were dated: all were measured at its date
        run.setdefault("date", record.get("date", ""))
        for part in ("interrupted", "resumed"):
            if part in run:
                run[part].setdefault("date", run["date"])
    with tempfile.TemporaryDirectory(prefix="ssl-benchmark-") as scratch:
        for name in args.runs:
            after = args.interrupt_after or default_interrupt(name, record["runs"])
            if name.endswith("-interrupted") and after is None:
                raise SystemExit(f"{name}: give --interrupt-after, or measure the run it is derived from first "
                                 "(empty-jobs2 for sequential-interrupted, quick for quick-interrupted)")
            result = study_runs([name], Path(scratch), after, args.times)[name]
            result.setdefault("date", time.strftime("%Y-%m-%d %H:%M"))
            record["runs"][name] = result
            record.update(date=time.strftime("%Y-%m-%d %H:%M"), machine=machine())
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=2))  # after each run: a later failure keeps what was measured
            (args.out / "study_runs.md").write_text(runs_markdown(record))
    print(runs_markdown(record))
    if args.readme:
        replace_readme_block("study-runs", "<!-- study-runs:start (written by benchmarks/benchmark.py --runs --readme; "
                                           "do not edit by hand) -->\n" + runs_markdown(record) + "<!-- study-runs:end -->",
                             SPEED_DOC)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed supervised fit (pretexts: 1)")
    parser.add_argument("--images", type=int, default=None,
                        help="measure on the first N labelled and N unlabelled images (default: all; a smoke run)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the results (default: %(default)s)")
    parser.add_argument("--study", action="store_true", help="also time the study's notebooks (quick profile)")
    parser.add_argument("--readme", action="store_true", help="also write the table into the benchmark block of docs/speed.md")
    parser.add_argument("--runs", nargs="+", choices=RUNS, help="measure these runs of the study instead (see RUNS)")
    parser.add_argument("--times", type=int, default=1, help="runs of unchanged and only-06 (their median is reported)")
    parser.add_argument("--interrupt-after", type=float, default=None,
                        help="*-interrupted: seconds before the Ctrl-C (default: about half-way, from the recorded "
                             "empty-jobs2 or quick run)")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: write benchmark.md (and the block of docs/speed.md) again from benchmark.json")
    args = parser.parse_args(argv)
    if args.images is not None and args.images < 8:
        parser.error("--images: at least 8")
    return args


def main(argv: list[str] | None = None) -> None:
    """Measure what the command line asks for, write the results into ``--out``."""
    args = parse_args(argv)
    if args.render:
        return write(json.loads((args.out / "benchmark.json").read_text()), args.out, args.readme)
    if args.runs:
        return record_runs(args)
    result = measure(*labelled_and_unlabelled(args.images), epochs=args.epochs, repeats=args.repeats)
    if args.study:
        result["study"] = study_times()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmark.json").write_text(json.dumps(result, indent=2))
    write(result, args.out, args.readme)


def write(result: dict, out: Path, readme: bool) -> None:
    """Write ``benchmark.md`` into ``out``, print it, and with ``readme`` put it into the benchmark block of docs/speed.md."""
    (out / "benchmark.md").write_text(markdown(result))
    print(markdown(result))
    if readme:
        replace_readme_block("benchmark", "<!-- benchmark:start (written by benchmarks/benchmark.py --readme; do not "
                                          "edit by hand) -->\n" + markdown(result) + "<!-- benchmark:end -->", SPEED_DOC)


def markdown(r: dict) -> str:
    """The throughput and bottleneck measurements (and the study's timings, where measured) as text and tables."""
    s, p, b = r["supervised_images_per_s"], r["pretext_pairs_per_s"], r["bottleneck"]
    images = (f" on {r['images']['labelled']:,} labelled and {r['images']['unlabelled']:,} unlabelled images"
              if "images" in r else "")
    floor = b["full_profile_fits"]
    lines = [
        f"Measured {r['date']} on {r['machine']}, device {r.get('device', 'CPU')}, Keras backend {r['backend']}"
        f"{images}; medians of {r['repeats']} runs.",
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
           "loop). "
           if b.get("profile_of_project_fit") else "")
        + ("The full profile's supervised fits and Siamese fine-tunings"
           + (f" ({floor['fits']:,} fits)" if "fits" in floor else "")
           + f" see {floor['images_seen']:,} images: {floor['minutes_at_bare_fit_rate']:.0f} minutes at the "
           "bare-fit rate."),
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
