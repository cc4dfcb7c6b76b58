"""Shared fixtures: a small synthetic course tree of PNGs, made in a temporary folder."""

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def png_bytes(array: np.ndarray, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def make_tree(root: Path, per_class: int = 3, seed: int = 0, folder: str = "mnist_png") -> Path:
    """<folder>/{training,testing}/<class>/<k>.png with random 28x28 grayscale images (``mnist_png``, or another
    dataset's folder: ``fashion_png``)."""
    rng = np.random.default_rng(seed)
    base = root / folder
    for subset in ("training", "testing"):
        for digit in range(10):
            folder = base / subset / str(digit)
            folder.mkdir(parents=True)
            for k in range(per_class):
                (folder / f"{k}.png").write_bytes(png_bytes(rng.integers(0, 256, (28, 28), dtype=np.uint8)))
    return base


def pack(tree: Path, archive: Path) -> Path:
    """Pack a tree as .tar.gz or .zip, keeping its top folder."""
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive, "w") as z:
            for file in sorted(tree.rglob("*")):
                z.write(file, file.relative_to(tree.parent).as_posix())
    else:
        with tarfile.open(archive, "w:gz") as t:
            t.add(tree, arcname=tree.name)
    return archive


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "src")


def project_in(tmp_path: Path, monkeypatch) -> Path:
    """Point the runner and the publisher at a project in ``tmp_path`` (artefacts/, figures/, notebooks/, reports/:
    `ssl_study.config.PROJECT`), and let the runner read no data; returns ``tmp_path``."""
    import ssl_study.config as config
    import ssl_study.run.runner as runner

    monkeypatch.setattr(config, "PROJECT", config.Layout(tmp_path))
    monkeypatch.setattr(runner, "load_mnist", lambda verbose=False: None)
    return tmp_path



#: the test modules that run notebooks, the runner or a whole profile: marked ``slow`` (``pytest -m "not slow"`` leaves
#: them out)
SLOW_MODULES = {"test_runner", "test_faults", "test_examples", "test_benchmark",
                "test_notebooks", "test_semi", "test_pipeline", "test_fashion_quick"}


#: the test modules that run the project's own profiles (its artefacts/quick, its fit cache, its run stages and lock):
#: under pytest-xdist (``make test`` runs two workers) they run one after the other in one worker, the notebooks last
#: and in order (`pytest_xdist_make_scheduler`); every other module runs beside them, whole, in the other worker
PROJECT_MODULES = {"test_faults", "test_examples", "test_store", "test_runner", "test_datasets"}


#: the modules that take minutes outside the project's scope: started first in the other worker, so that neither
#: worker is left alone with a long test at the end
LONG_MODULES = ("test_fashion_quick", "test_pipeline")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.stem in SLOW_MODULES or item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
    # the project's scope first (one worker takes it whole), then the long modules, then the rest, each in its order
    items.sort(key=lambda item: (0 if scope_of(item.nodeid) == "project" else
                                 1 + LONG_MODULES.index(item.path.stem) if item.path.stem in LONG_MODULES else 9))


def scope_of(nodeid: str) -> str:
    """The unit of work a pytest-xdist worker takes whole: ``project`` for every test of `PROJECT_MODULES` and every
    notebook, else the test's module."""
    path = Path(nodeid.split("::")[0])
    return "project" if path.stem in PROJECT_MODULES or path.suffix == ".ipynb" else str(path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scheduling by scope (`scope_of`): a scope's tests run in one worker, in collection order; the
    scopes are handed out in the order `pytest_collection_modifyitems` gives them (not by their number of tests)."""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False

    class ByScope(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return ByScope(config, log)
