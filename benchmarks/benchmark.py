"""Throughput and wall-time benchmark of the study, measured in one run.

    .venv/bin/python benchmarks/benchmark.py            # throughput only (about 4 minutes on 2 cores)
    .venv/bin/python benchmarks/benchmark.py --study    # also runs the quick profile of the study and reads the
                                                        # full profile's timings from artefacts/full/timings.json

Measures, with the median of ``--repeats`` runs (the runs of the two sides of each ratio interleaved):

1. supervised training: images/s of one fit through the project's path (`helpers.fit_classifier`: augmentation,
   validation, cosine schedule, early-stopping bookkeeping) against a bare ``model.fit`` of the same model on
   in-memory arrays (the in-process limit);
2. Siamese pretext: pairs/s of the project's pretext (`helpers.build_siamese` + `helpers.pair_dataset`, augmentation
   included) against a straightforward Keras implementation written here (random-augmentation layers inside a
   two-input model, pairs materialised as arrays, batch 128);
3. with ``--study``: wall time of each notebook in the quick profile, the full profile's recorded times, and the
   largest peak memory of a notebook kernel.

Prints a table and writes ``benchmarks/results/benchmark.json`` and ``benchmark.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import helpers  # noqa: E402

keras = helpers.import_keras()
OUT = ROOT / "benchmarks" / "results"


def labelled_and_unlabelled() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The full split's labelled images and labels, and its unlabelled images, as model inputs."""
    mnist = helpers.load_mnist(verbose=False)
    split = helpers.make_split(mnist.labels, seed=42)
    x = helpers.to_model_input(mnist.images)
    return x[split["labelled"]], mnist.labels[split["labelled"]].astype("int32"), x[split["unlabelled"]]


def project_fit(x: np.ndarray, y: np.ndarray, epochs: int) -> float:
    """Images/s of `helpers.fit_classifier` (90 % train, 10 % validation, as in the notebooks)."""
    n_val = len(x) // 10
    model = helpers.build_classifier()
    fit = helpers.fit_classifier(model, x[n_val:], y[n_val:], x[:n_val], y[:n_val], epochs, 128, seed=0)
    return (len(x) - n_val) * fit["epochs"] / fit["seconds"]


def bare_fit(x: np.ndarray, y: np.ndarray, epochs: int) -> float:
    """Images/s of a bare ``model.fit`` on in-memory arrays, same model, batch and training-set size."""
    n_val = len(x) // 10
    model = helpers.build_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x[n_val:], y[n_val:], batch_size=128, epochs=epochs, verbose=0)
    return (len(x) - n_val) * epochs / (time.perf_counter() - start)


def project_pretext(x: np.ndarray, epochs: int) -> float:
    """Pairs/s of the project's pretext training (pairs drawn and augmented on the fly)."""
    keras.utils.set_random_seed(0)
    encoder = helpers.build_encoder()
    siamese = helpers.build_siamese(encoder, helpers.build_augmenter(seed=0))
    siamese.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy", metrics=["accuracy"])
    pairs = helpers.pair_dataset(x, len(x), 128, seed=0)
    start = time.perf_counter()
    siamese.fit(pairs, epochs=epochs, verbose=0)
    return len(x) * epochs / (time.perf_counter() - start)


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


def interleaved(a, b, repeats: int) -> tuple[list[float], list[float]]:
    """Run ``a`` and ``b`` alternately ``repeats`` times each (after one untimed warm-up of each)."""
    a(), b()
    runs_a, runs_b = [], []
    for _ in range(repeats):
        runs_a.append(a())
        runs_b.append(b())
    return runs_a, runs_b


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed supervised fit / pretext run")
    parser.add_argument("--study", action="store_true", help="also time the study's notebooks (quick profile)")
    args = parser.parse_args()

    x_lab, y_lab, x_unl = labelled_and_unlabelled()
    fit_project, fit_bare = interleaved(lambda: project_fit(x_lab, y_lab, args.epochs),
                                        lambda: bare_fit(x_lab, y_lab, args.epochs), args.repeats)
    pre_project, pre_plain = interleaved(lambda: project_pretext(x_unl, 1), lambda: straightforward_pretext(x_unl, 1),
                                         args.repeats)
    med = lambda runs: float(np.median(runs))  # noqa: E731
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "backend": keras.backend.backend(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "repeats": args.repeats,
        "supervised_images_per_s": {"project": med(fit_project), "bare_fit": med(fit_bare),
                                    "ratio": med(fit_project) / med(fit_bare),
                                    "runs": {"project": fit_project, "bare_fit": fit_bare}},
        "pretext_pairs_per_s": {"project": med(pre_project), "straightforward": med(pre_plain),
                                "ratio": med(pre_project) / med(pre_plain),
                                "runs": {"project": pre_project, "straightforward": pre_plain}},
        "peak_memory_mb_this_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if args.study:
        result["study"] = study_times()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "benchmark.json").write_text(json.dumps(result, indent=2))
    (OUT / "benchmark.md").write_text(markdown(result))
    print(markdown(result))


def markdown(r: dict) -> str:
    s, p = r["supervised_images_per_s"], r["pretext_pairs_per_s"]
    lines = [
        f"Measured {r['date']} on {r['machine']}, Keras backend {r['backend']}; medians of {r['repeats']} runs.",
        "",
        "| measure | project | reference | ratio |",
        "|---|---:|---:|---:|",
        f"| supervised training, images/s (reference: bare `model.fit`) | {s['project']:,.0f} | "
        f"{s['bare_fit']:,.0f} | {s['ratio']:.2f} |",
        f"| Siamese pretext, pairs/s (reference: straightforward Keras) | {p['project']:,.0f} | "
        f"{p['straightforward']:,.0f} | {p['ratio']:.2f} |",
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
