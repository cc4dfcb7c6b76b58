"""Cache keys that are versions you bump on purpose.

A task's key (`task_key`) is the sha256 of its declared inputs -- the task itself (data and split fingerprints, the
encoder it starts from, method, amount, seed, settings: every field of its dataclass), the backend and the library
versions -- and of the **version** of its kind (`VERSIONS`) and of its unit (the kind of fit's `FitKind.version`, the
pretext task's `Pretext.version`, the method's `SemiMethod.version`). No source code enters a key: editing a comment,
a docstring, a plot or a message recomputes nothing.

No floating-point number computed on this machine enters a key either: the last bits of a float depend on the processor
(its instruction set picks other kernels), so a key made of them would recompute on another machine what this one
cached. An encoder is named by its **identity**, the key of what made it: an initial encoder of notebook 3 by
`initial_encoder_key` (the architecture, the seed, the version of the initialisation), a pre-trained one by the key of
its pretext run; a t-SNE map by the identity of the encoder whose features it maps and the images it shows. The data's
and the split's fingerprints are hashes of integers (decoded pixels, labels, indices): the same on every machine.

What keeps a key honest is a test (``tests/test_keys.py``): it follows the code each kind and each unit runs
(`ssl_study.study.fingerprints`) and fails, naming the kind, where that code changed without a version bump.

Entries of the old version are no longer asked for; the runner prunes them (see `ssl_study.study.executor.run_tasks`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import sys
from dataclasses import fields, is_dataclass
from pathlib import Path

from ..compute.fits import FIT_KINDS
from ..compute.pretexts import PRETEXTS
from ..compute.semi import SEMI_METHODS

#: what a task of each kind computes; bump a kind's number whenever its code changes what it computes (the test and
#: ``python -m ssl_study.study.fingerprints`` say when): its cached results are then computed again
VERSIONS = {"fit": 3, "pretext": 2, "semi": 3, "tsne": 2, "init": 1, "scale": 1}

LIBRARIES = ("numpy", "scipy", "sklearn")  #: beyond the backend and Keras, libraries whose version can change a result


def _units() -> dict[str, dict]:
    """The registries of units, by the kind of task that runs them: kinds of fit, pretext tasks, semi-supervised
    methods."""
    return {"fit": FIT_KINDS, "pretext": PRETEXTS, "semi": SEMI_METHODS}


def version(kind: str) -> int:
    """The version of a kind: `VERSIONS`, or a unit's own ``version``."""
    if ":" in kind:
        family, name = kind.split(":", 1)
        return _units()[family][name].version
    return VERSIONS[kind]


def task_versions(kind: str, task) -> dict[str, int]:
    """The versions the key of ``task`` holds: its kind's (`VERSIONS`) and, for a fit, a pretext run or a
    semi-supervised run, its unit's (the kind of fit, the pretext task, the method); for a kind of fit that starts from
    another kind's result (`FitKind.after`), that kind's version too."""
    found = {"version": VERSIONS[kind]}
    unit = {"fit": "kind", "pretext": "pretext", "semi": "kind"}.get(kind)  #: the task's field naming its unit
    if unit:
        found["unit_version"] = version(f"{kind}:{getattr(task, unit)}")
    after = FIT_KINDS[task.kind].after if kind == "fit" else None
    if after:  # a fine-tuning starts from its probe's result: a new probe is a new fine-tuning
        found["after_version"] = version(f"fit:{after}")
    return found


def plain(value):
    """A task (or its settings) as plain JSON data: dataclasses with their class's name, recursively."""
    if is_dataclass(value) and not isinstance(value, type):
        return {"__class__": type(value).__name__, **{f.name: plain(getattr(value, f.name)) for f in fields(value)}}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def environment() -> dict:
    """The backend and the library versions every key holds, and the training constants that are not settings. Read
    without importing the backend (a notebook whose results all come from the fit cache never starts it)."""
    from ..config import STEPS_PER_EXECUTION

    backend = keras_backend()
    versions = {name: importlib.import_module(name).__version__ for name in LIBRARIES}
    return {"backend": backend, "keras": _version("keras"), backend: _version(backend), **versions,
            "steps_per_execution": STEPS_PER_EXECUTION}


#: the distributions a module's version is read from, first found first (TensorFlow's CPU wheel on x86-64)
DISTRIBUTIONS = {"tensorflow": ("tensorflow-cpu", "tensorflow"), "jax": ("jax",), "keras": ("keras",)}


def _version(module: str) -> str:
    """A module's version: its ``__version__`` where it is imported, else its installed distribution's."""
    import importlib.metadata

    if module in sys.modules:
        return sys.modules[module].__version__
    for name in DISTRIBUTIONS.get(module, (module,)):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return importlib.import_module(module).__version__


def keras_backend() -> str:
    """The backend Keras runs on, as Keras chooses it (``$KERAS_BACKEND``, else its configuration file's, else
    TensorFlow), without importing Keras where it is not imported yet."""
    import os

    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    try:
        return json.loads((home / "keras.json").read_text()).get("backend") or "tensorflow"
    except (OSError, ValueError):
        return "tensorflow"


#: the instruction-set extensions that change which kernels oneDNN, XLA and OpenBLAS pick at run time
ISA_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16", "amx_int8")
#: the environment variables that change those kernels or their threads
KERNEL_SETTINGS = ("TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA", "OPENBLAS_CORETYPE", "OMP_NUM_THREADS",
                   "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "XLA_FLAGS")


@functools.cache
def machine() -> dict:
    """Where a result was computed, recorded with it but not part of its key: the processor (model, family, the
    instruction-set extensions that change kernels: `ISA_FLAGS`), the kernel settings (`KERNEL_SETTINGS`, unset ones
    left out), the BLAS libraries and their threads, and the library versions. The same task gives results that differ
    in their last bits on a processor with other extensions (docs/running.md, *Other machines*), so a key that held
    this record would recompute every result on another machine; `make verify` measures how far they differ."""
    import os
    import platform

    from threadpoolctl import threadpool_info

    info = _cpuinfo()
    field = lambda name: next((line.split(":", 1)[1].strip() for line in info if line.split(":")[0].strip() == name),
                              "")
    flags = set(field("flags").split())
    import numpy  # noqa: F401 -- its BLAS, listed below

    versions = {name: _version(name) for name in ("keras", keras_backend(), *LIBRARIES)}
    blas = sorted({" ".join(filter(None, [i["internal_api"], i.get("architecture")]))
                   + f" ({i.get('num_threads')} threads)" for i in threadpool_info()})
    return {"cpu": field("model name") or platform.processor() or platform.machine(), "arch": platform.machine(),
            "family": field("cpu family"), "model": field("model"), "vendor": field("vendor_id"),
            "isa": [flag for flag in ISA_FLAGS if flag in flags], "cores": os.cpu_count(),
            "settings": {name: os.environ[name] for name in KERNEL_SETTINGS if name in os.environ},
            "blas": blas, "versions": versions}


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def task_key(kind: str, task, env: dict | None = None) -> str:
    """The key of ``task`` (a `Fit`, `PretextRun` or `SemiRun` of ``kind``; for ``tsne`` and ``init``, a dict of
    what the map or the initial encoder is made from)."""
    material = {"kind": kind, **task_versions(kind, task), "task": plain(task), "environment": env or environment()}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def initial_encoder_key(seed: int, env: dict | None = None) -> str:
    """The identity of notebook 3's initial encoder of ``seed``: the key of what makes it (the seed, the version of the
    ``init`` kind -- the architecture and its initialisation, whose code the test of the versions watches -- and the
    environment), never its weights' bytes."""
    return task_key("init", {"seed": int(seed)}, env)


def scale_control_key(initial: str, pretrained: str) -> str:
    """The identity of a weight-scale control (`ssl_study.study.runs.save_scale_controls`): the key of what makes it --
    the identities of the untrained and the pre-trained encoder it is made from, and the version of the ``scale``
    kind (`ssl_study.compute.models.rescaled_like`)."""
    return task_key("scale", {"initial": initial, "pretrained": pretrained})
