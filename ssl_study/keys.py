"""Cache keys that are versions you bump on purpose.

A task's key (`task_key`) is the sha256 of its declared inputs -- the task itself (data and split fingerprints, the
encoder it starts from, method, amount, seed, settings: every field of its dataclass), the backend and the library
versions -- and of the **version** of its kind (`VERSIONS`; a pretext task's own `Pretext.version` besides). No source
code enters a key: editing a comment, a docstring, a plot or a message recomputes nothing.

No floating-point number computed on this machine enters a key either: the last bits of a float depend on the processor
(its instruction set picks other kernels), so a key made of them would recompute on another machine what this one
cached. An encoder is named by its **identity**, the key of what made it: an initial encoder of notebook 3 by
`initial_encoder_key` (the architecture, the seed, the version of the initialisation), a pre-trained one by the key of
its pretext run; a t-SNE map by the identity of the encoder whose features it maps and the images it shows. The data's
and the split's fingerprints are hashes of integers (decoded pixels, labels, indices): the same on every machine.

What keeps a key honest is a test (``tests/test_keys.py``): it computes a fingerprint of the code each kind runs
(`code_fingerprint`: the syntax tree of the functions and modules in `task_code`, docstrings and comments removed)
and compares it with ``task_versions.json``, which records the fingerprint each kind's version was made with. Change
what a task computes without bumping its version and the test fails, naming the kind; bump it and record it::

    python -m ssl_study.keys            # which kinds changed
    python -m ssl_study.keys --record   # record the bumped kinds (refuses a changed kind whose version was not bumped)

Entries of the old version are no longer asked for; the runner prunes them (see `ssl_study.executor.run_tasks`).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import json
import sys
import textwrap
from dataclasses import fields, is_dataclass
from pathlib import Path

#: what a task of each kind computes; bump a kind's number whenever its code changes what it computes (the test and
#: ``python -m ssl_study.keys`` say when): its cached results are then computed again
VERSIONS = {"fit": 3, "pretext": 2, "semi": 3, "tsne": 2, "init": 1}

LOCK = Path(__file__).with_name("task_versions.json")  #: the fingerprint each kind's version was recorded with
LIBRARIES = ("numpy", "scipy", "sklearn")  #: beyond the backend and Keras, libraries whose version can change a result


def task_code(kind: str) -> tuple:
    """The functions, classes and modules a task of ``kind`` runs (``pretext:<name>``: one pretext unit's module)."""
    from . import data, models, semi, training, workers
    from . import pretexts

    loading = (workers._inputs, workers._official_test, workers._encoder_weights, data.to_model_input,
               data.nested_subsets)
    network = (models.build_encoder, models.build_classifier, models.build_linear_head, models.encode,
               models.build_augmenter, models._random_views_class)
    if kind == "fit":
        return (*loading, *network, workers._features, workers._run_fit, workers._result, training)
    if kind == "semi":
        return (*loading, *network, workers._run_semi, workers._semi_unlabelled, workers._result,
                workers._unlabelled_labels, workers._pseudo_label_report, training, semi.SemiMethod, semi.get_semi,
                semi.predict_pseudo_labels)
    if kind == "pretext":
        return (*loading, *network, workers._run_pretext, pretexts.Pretext, pretexts.PretextSettings,
                pretexts.pretext_indices, pretexts.monitor_slice, pretexts.knn_monitor, pretexts.pretrain)
    if kind == "tsne":
        return (workers.tsne_map,)
    if kind == "init":  # notebook 3's initial encoders: the architecture and the seeding of its initialisers
        return (models.build_encoder, models._ThreadSeeds, models._own_seeds, models.import_keras)
    if kind.startswith("pretext:"):
        return (inspect.getmodule(pretexts.PRETEXTS[kind.split(":", 1)[1]]),)
    if kind.startswith("semi:"):
        return (inspect.getmodule(semi.SEMI_METHODS[kind.split(":", 1)[1]]),)
    raise KeyError(f"no task kind {kind!r}")


#: what a unit's class says for readers only (its names, colour, line style, example figure): not part of what a task
#: computes, so editing it needs no version bump
PRESENTATION = {"title", "label", "colour", "line", "examples", "show_analysis", "why"}


def _presentation(node: ast.stmt) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return node.name in PRESENTATION
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return bool(targets) and all(isinstance(t, ast.Name) and t.id in PRESENTATION for t in targets)


def _essential(tree: ast.AST) -> ast.AST:
    """The syntax tree without docstrings and without the presentation attributes of classes (`PRESENTATION`)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                body = body[1:]
            if isinstance(node, ast.ClassDef):
                body = [stmt for stmt in body if not _presentation(stmt)]
            node.body = body or [ast.Pass()]
    return tree


def source_fingerprint(source: str) -> str:
    """sha256 of the syntax tree of Python source, without its docstrings and its classes' presentation attributes
    (comments, line numbers and formatting are not in a syntax tree): a wording edit leaves it unchanged, a changed
    line of code does not."""
    tree = _essential(ast.parse(textwrap.dedent(source)))
    return hashlib.sha256(ast.dump(tree, annotate_fields=True, include_attributes=False).encode()).hexdigest()


def code_fingerprint(kind: str) -> str:
    """The fingerprint of the code a task of ``kind`` runs: `source_fingerprint` of each object of `task_code`."""
    digest = hashlib.sha256()
    for obj in task_code(kind):
        digest.update(source_fingerprint(inspect.getsource(obj)).encode())
    return digest.hexdigest()


def _units() -> dict[str, dict]:
    """The registries of units: pretext tasks and semi-supervised methods."""
    from .pretexts import PRETEXTS
    from .semi import SEMI_METHODS

    return {"pretext": PRETEXTS, "semi": SEMI_METHODS}


def kinds() -> list[str]:
    """Every kind whose code is checked: the task kinds, and each unit shipped in ``ssl_study/pretexts/`` or
    ``ssl_study/semi/`` (``pretext:siamese``, ``semi:fixmatch``; a unit registered elsewhere -- a test's -- is not)."""
    shipped = [f"{family}:{name}" for family, registry in _units().items() for name, cls in sorted(registry.items())
               if cls.__module__.startswith(f"{__package__}.")]
    return [*VERSIONS, *shipped]


def version(kind: str) -> int:
    """The version of a kind: `VERSIONS`, or a unit's own ``version``."""
    if ":" in kind:
        family, name = kind.split(":", 1)
        return _units()[family][name].version
    return VERSIONS[kind]


def task_versions(kind: str, task) -> dict[str, int]:
    """The versions the key of ``task`` holds: its kind's (`VERSIONS`) and, for a pretext or semi-supervised run, its
    unit's."""
    found = {"version": VERSIONS[kind]}
    if kind == "pretext":
        found["unit_version"] = version(f"pretext:{task.pretext}")
    if kind == "semi":
        found["unit_version"] = version(f"semi:{task.kind}")
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


def dataclasses_by_name() -> dict[str, type]:
    """The dataclasses a task is made of, by class name: the tasks, the recipe, the augmentation, and the settings of
    every registered unit."""
    from .config import AugmentConfig, Recipe
    from .tasks import Fit, PretextRun, SemiRun

    units = [cls.Settings for registry in _units().values() for cls in registry.values()]
    return {cls.__name__: cls for cls in (Fit, PretextRun, SemiRun, Recipe, AugmentConfig, *units)}


def from_plain(value, classes: dict[str, type] | None = None):
    """The task (or settings) that `plain` described: the inverse of `plain` (lists of a dataclass become tuples)."""
    classes = classes or dataclasses_by_name()
    if isinstance(value, dict) and "__class__" in value:
        return classes[value["__class__"]](**{k: from_plain(v, classes) for k, v in value.items() if k != "__class__"})
    if isinstance(value, list):
        return tuple(from_plain(v, classes) for v in value)
    return value


def environment() -> dict:
    """The backend and the library versions every key holds, and the training constants that are not settings. Read
    without importing the backend (a notebook whose results all come from the fit cache never starts it)."""
    from .config import STEPS_PER_EXECUTION

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


def check() -> list[str]:
    """What is out of step with ``task_versions.json``: one sentence per kind."""
    recorded = json.loads(LOCK.read_text()) if LOCK.exists() else {}
    problems = []
    for kind in kinds():
        now, record = code_fingerprint(kind), recorded.get(kind)
        if record is None:
            problems.append(f"{kind}: not recorded yet; run `python -m ssl_study.keys --record`.")
        elif record["code"] != now and record["version"] == version(kind):
            where = "its unit's `version`" if ":" in kind else f"VERSIONS[{kind!r}]"
            problems.append(f"{kind}: the code this task kind runs changed but its version was not bumped: bump "
                            f"{where} in the same commit (its cached results will be computed again), then run "
                            "`python -m ssl_study.keys --record`.")
        elif record["code"] != now or record["version"] != version(kind):
            problems.append(f"{kind}: version {version(kind)} is not recorded yet; run "
                            "`python -m ssl_study.keys --record`.")
    return problems


def record() -> list[str]:
    """Record the fingerprints of the kinds that were bumped or are new; refuses while a changed kind is not bumped."""
    recorded = json.loads(LOCK.read_text()) if LOCK.exists() else {}
    refused = [p for p in check() if "was not bumped" in p]
    if refused:
        raise SystemExit("\n".join(refused))
    changed = []
    for kind in kinds():
        entry = {"version": version(kind), "code": code_fingerprint(kind)}
        if recorded.get(kind) != entry:
            recorded[kind] = entry
            changed.append(kind)
    LOCK.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    return changed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--record" in argv:
        changed = record()
        print(f"recorded: {', '.join(changed) or 'nothing changed'}")
        return 0
    problems = check()
    print("\n".join(problems) or "every task kind's code matches its recorded version")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
