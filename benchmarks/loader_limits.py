"""What the data loader costs where a source holds more than data (issue 31): the peak memory and time of decoding a
small course tree packed with a 2 GiB member that is not data -- a ``README.bin`` in a zip, a ``notes.txt`` in a
tar.gz -- and the cost of the exact-duplicate check on the course's 70,000 MNIST images.

    MNIST_PNG=... .venv/bin/python -m benchmarks.loader_limits [--gib 2]

Each load runs in a fresh subprocess (its peak resident memory is its own: ``ru_maxrss``); the duplicate check is
timed on the decoded course images (median of five). Writes ``benchmarks/results/loader_limits.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

import helpers

OUT = helpers.ROOT / "benchmarks" / "results" / "loader_limits"
LIMIT_MB = 500  #: the issue's bound on the loader's peak memory with a 2 GiB member that is not data
CHUNK = 1 << 24  #: 16 MiB of zeros at a time: writing the large member never holds it in memory


def small_tree(root: Path) -> Path:
    """A course tree of 60 random 28 x 28 PNGs (3 per class and folder)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    base = root / "mnist_png"
    for part in ("training", "testing"):
        for digit in range(10):
            (base / part / str(digit)).mkdir(parents=True)
            for k in range(3):
                Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(base / part / str(digit) /
                                                                                      f"{k}.png")
    return base


def with_large_zip_member(tree: Path, archive: Path, size: int) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for file in sorted(tree.rglob("*.png")):
            z.write(file, f"mnist_png/{file.relative_to(tree).as_posix()}")
        with z.open("mnist_png/README.bin", "w", force_zip64=True) as member:
            for _ in range(size // CHUNK):
                member.write(bytes(CHUNK))
    return archive


def with_large_tar_member(tree: Path, archive: Path, size: int) -> Path:
    class Zeros:
        def __init__(self, n: int):
            self.left = n

        def read(self, n: int = -1) -> bytes:
            n = self.left if n < 0 else min(n, self.left)
            self.left -= n
            return bytes(n)

    with tarfile.open(archive, "w:gz", compresslevel=1) as t:
        t.add(tree, arcname="mnist_png")
        info = tarfile.TarInfo("mnist_png/notes.txt")
        info.size = size
        t.addfile(info, Zeros(size))
    return archive


LOAD = """
import json, resource, sys, time
from ssl_study.compute.data import load_mnist
start = time.perf_counter()
images = load_mnist(sys.argv[1], cache_dir=sys.argv[2], verbose=False)
print(json.dumps({"images": len(images), "seconds": round(time.perf_counter() - start, 2),
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def load_in_subprocess(source: Path, cache: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", LOAD, str(source), str(cache)], capture_output=True, text=True,
                          cwd=helpers.ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def duplicate_check_seconds() -> dict:
    """The exact-duplicate check on the course's decoded images: median seconds of five."""
    from ssl_study.compute.data import check_no_copies

    mnist = helpers.load_mnist(verbose=False)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        check_no_copies(Path("mnist"), mnist.images, mnist.files)
        times.append(time.perf_counter() - start)
    return {"images": len(mnist), "median_seconds": round(statistics.median(times), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=2.0, help="the size of the member that is not data")
    args = parser.parse_args()
    size = int(args.gib * (1 << 30)) // CHUNK * CHUNK
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        tree = small_tree(root / "src")
        for kind, make in (("zip, README.bin", with_large_zip_member), ("tar.gz, notes.txt", with_large_tar_member)):
            archive = make(tree, root / ("big.zip" if "zip" in kind else "big.tar.gz"), size)
            result = load_in_subprocess(archive, root / f"cache-{len(rows)}")
            rows.append({"source": kind, "member_gib": round(size / (1 << 30), 2),
                         "archive_mb": round(archive.stat().st_size / 1e6, 1), **result})
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "limit_mb": LIMIT_MB, "loads": rows,
              "duplicate_check": duplicate_check_seconds(),
              "machine_peak_mb_of_this_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    OUT.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    table = "\n".join(f"| {r['source']} | {r['member_gib']} | {r['archive_mb']} | {r['images']} | {r['seconds']} | "
                      f"{r['peak_mb']} |" for r in rows)
    dup = report["duplicate_check"]
    text = (f"Measured {report['date']} (`python -m benchmarks.loader_limits`): the loader's peak resident memory "
            f"(fresh subprocess) on a 60-image course tree packed with a member that is not data, against the "
            f"issue's bound of {LIMIT_MB} MB; and the exact-duplicate check on the course's {dup['images']:,} "
            f"images: **{dup['median_seconds']} s** (median of five).\n\n"
            "| source | member (GiB) | archive (MB) | images read | seconds | peak memory (MB) |\n"
            "|---|---|---|---|---|---|\n" + table + "\n")
    OUT.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
