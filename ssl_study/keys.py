"""Cache keys that are versions you bump on purpose.

A task's key (`task_key`) is the sha256 of its declared inputs -- the task itself (data, split and encoder
fingerprints, method, amount, seed, settings: every field of its dataclass), the backend and the library versions --
and of the **version** of its kind (`VERSIONS`; a pretext task's own `Pretext.version` besides). No source code enters a
key: editing a comment, a docstring, a plot or a message recomputes nothing.

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
VERSIONS = {"fit": 2, "pretext": 1, "semi": 2, "tsne": 1}

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
        return (*loading, *network, workers._run_semi, workers._result, workers._unlabelled_labels,
                workers._pseudo_label_report, training, semi.SemiMethod, semi.get_semi, semi.predict_pseudo_labels)
    if kind == "pretext":
        return (*loading, *network, workers._run_pretext, pretexts.Pretext, pretexts.PretextSettings,
                pretexts.pretext_indices, pretexts.monitor_slice, pretexts.knn_monitor, pretexts.pretrain)
    if kind == "tsne":
        return (workers.tsne_map,)
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
    """The backend and the library versions every key holds, and the training constants that are not settings."""
    from .config import STEPS_PER_EXECUTION
    from .models import import_keras

    keras = import_keras()
    backend = keras.backend.backend()
    versions = {name: importlib.import_module(name).__version__ for name in (backend, *LIBRARIES)}
    return {"backend": backend, "keras": keras.__version__, **versions, "steps_per_execution": STEPS_PER_EXECUTION}


@functools.cache
def machine() -> dict:
    """The processor and the BLAS kernels that computed a result, recorded with it but not part of its key: the same
    task gives results that differ in the last bits on another processor (the committed full run's pretext runs were
    computed on an Intel AVX-512 machine, and a machine with AMD EPYC processors recomputes them slightly otherwise;
    ``benchmarks/results/verify_cache.txt``), so a key that held it would recompute every result on another machine."""
    import platform

    from threadpoolctl import threadpool_info

    model = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")),
                 platform.processor() or platform.machine())
    blas = sorted({f"{i['internal_api']} {i.get('architecture') or ''}".strip() for i in threadpool_info()})
    return {"cpu": model, "arch": platform.machine(), "blas": blas}


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def task_key(kind: str, task, env: dict | None = None) -> str:
    """The key of ``task`` (a `Fit`, `PretextRun` or `SemiRun` of ``kind``)."""
    material = {"kind": kind, **task_versions(kind, task), "task": plain(task), "environment": env or environment()}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


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
