"""Units from outside the package: the Python files named in ``$SSL_UNITS`` (separated by the path separator, ``:``)
are imported once per process, after the registries of pretext tasks and semi-supervised methods exist, so that the
units they register (`ssl_study.compute.pretexts.register`, `ssl_study.compute.semi.register`) reach the notebooks, the
runner's kernels and the workers alike -- a test's own pretext runs through notebooks 4 to 6 without an edit anywhere
else.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from ..config import UNITS_ENV

_started: set[str] = set()


def load() -> None:
    """Import each file of ``$SSL_UNITS`` once (as module ``ssl_units_<stem>``)."""
    for path in filter(None, os.environ.get(UNITS_ENV, "").split(os.pathsep)):
        if path in _started:
            continue
        _started.add(path)
        name = f"ssl_units_{Path(path).stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or not Path(path).is_file():
            raise FileNotFoundError(f"${UNITS_ENV} names {path}, which is not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
