"""How long the submission reads: the rendered height of each page of ``reports/`` in headless Chromium, 1,400 px wide.

    .venv/bin/python tools/page_heights.py [--reports reports] [--screens /tmp/screens] [--out benchmarks/results]

Each page is rendered by ``chromium --headless --screenshot`` in a window 1,400 px wide, first 8,000 px tall, twice as
tall while the page reaches its bottom (up to 64,000 px: a small window renders in seconds where a huge one takes
minutes on a loaded machine); its height is the last row of pixels that is not background. ``--timeout`` is each
screenshot's limit (default 600 s). ``--screens`` also cuts each screenshot into screens of
1,000 px (PNG), to look at the pages as an examiner does. Needs Chromium (Debian: ``apt-get install chromium``).
Writes ``page_heights.txt`` into ``--out`` and prints it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
WIDTH, FIRST_WINDOW, MAX_WINDOW, SCREEN = 1400, 8_000, 64_000, 1000
PAGES = ("index.html", "01_split.html", "02_supervised_baseline.html", "03_encoder.html", "04_siamese_pretext.html",
         "05_finetune.html", "06_comparison.html")


def screenshot(page: Path, png: Path, window: int, timeout: float) -> np.ndarray:
    """The page rendered in a 1,400 px wide window ``window`` px tall, as a grey-level array."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        sys.exit("page_heights.py: no Chromium found (Debian: apt-get install chromium)")
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={WIDTH},{window}", f"--screenshot={png}", page.resolve().as_uri()],
                   check=True, capture_output=True, timeout=timeout)
    Image.MAX_IMAGE_PIXELS = None  # our own screenshot, up to 90 megapixels
    return np.asarray(Image.open(png).convert("L"))


def height(grey: np.ndarray) -> int:
    """Rows down to the last one holding anything but the background colour (that of the bottom-right pixel)."""
    rows = np.flatnonzero((np.abs(grey.astype(int) - int(grey[-1, -1])) > 4).any(axis=1))
    return int(rows[-1]) + 1 if len(rows) else 0


def measure(page: Path, png: Path, timeout: float) -> int:
    """The page's height: screenshots in a window twice as tall each time, until the page ends above its bottom."""
    window = FIRST_WINDOW
    while True:
        found = height(screenshot(page, png, window, timeout))
        if found < window - 10 or window >= MAX_WINDOW:
            return found
        window *= 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=Path, default=ROOT / "reports")
    parser.add_argument("--screens", type=Path, default=None, help="also save each page as 1,000 px screens here")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--timeout", type=float, default=600, help="seconds each screenshot may take")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in PAGES:
            rows.append((name, measure(args.reports / name, Path(scratch) / "page.png", args.timeout)))
            if args.screens:
                args.screens.mkdir(parents=True, exist_ok=True)
                image = Image.open(Path(scratch) / "page.png").crop((0, 0, WIDTH, rows[-1][1]))
                for k, top in enumerate(range(0, rows[-1][1], SCREEN)):
                    image.crop((0, top, WIDTH, min(top + SCREEN, rows[-1][1]))).save(
                        args.screens / f"{Path(name).stem}-{k + 1:02d}.png")
    total = sum(h for _, h in rows)
    lines = [f"Rendered height of reports/ at {WIDTH} px wide in headless Chromium "
             f"(tools/page_heights.py, {time.strftime('%Y-%m-%d %H:%M')}):", ""]
    lines += [f"{name:32s} {h:7,d} px  ({h / SCREEN:4.1f} screens of {SCREEN:,} px)" for name, h in rows]
    lines += [f"{'total':32s} {total:7,d} px  ({total / SCREEN:4.1f} screens)"]
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "page_heights.txt").write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
