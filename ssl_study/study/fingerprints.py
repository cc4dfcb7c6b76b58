"""What keeps a cache key honest: the fingerprint of the code each kind of task runs, found by following the code.

A kind's fingerprint (`code_fingerprint`) covers every function, class and module-level constant of the package that
its roots reach (`ROOTS`; a unit's root is its class), followed through names and imports -- function-level ones too
-- in the syntax tree, transitively: change ``MONITOR_IMAGES`` or the seeding helper of the initial weights and the
kinds that reach them change fingerprint, with no list to keep by hand. Docstrings, comments, formatting and a unit's
presentation attributes (`PRESENTATION`: its names, colour, line style, example figure) are left out, so a wording
edit changes nothing. A unit's fingerprint leaves out what its family's shared code already covers (a change there is
the family's version to bump): so a change of ``CV_IMAGES`` (the frozen-feature classifiers' cross-validation) changes
the fingerprints of the k-NN and logistic units alone, and bumping them re-keys their fits alone.

``tests/test_keys.py`` compares each fingerprint with ``task_versions.json``, which records the fingerprint each
kind's version was made with. Change what a task computes without bumping its version and the test fails, naming the
kind; bump it and record it::

    python -m ssl_study.study.fingerprints            # which kinds changed
    python -m ssl_study.study.fingerprints --record   # record the bumped kinds (refuses a changed, unbumped kind)
    python -m ssl_study.study.fingerprints --record --refactor semi semi:fixmatch   # a change that computes the same
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import sys
import textwrap
from pathlib import Path

from ..compute.fits import FIT_KINDS
from ..compute.pretexts import PRETEXTS
from ..compute.semi import SEMI_METHODS
from .keys import VERSIONS, version

PACKAGE = "ssl_study"
LOCK = Path(__file__).with_name("task_versions.json")  #: the fingerprint each kind's version was recorded with

#: where the code of each kind of task starts; a unit's code starts at its class (`unit_roots`)
ROOTS = {
    "fit": ("ssl_study.study.workers._run_fit", "ssl_study.compute.fits.base.FitKind",
            "ssl_study.compute.models.import_keras", "ssl_study.study.tasks.Fit"),
    "pretext": ("ssl_study.study.workers._run_pretext", "ssl_study.compute.pretexts.base.Pretext",
                "ssl_study.compute.models.import_keras", "ssl_study.study.tasks.PretextRun"),
    "semi": ("ssl_study.study.workers._run_semi", "ssl_study.compute.semi.base.SemiMethod",
             "ssl_study.compute.models.import_keras", "ssl_study.study.tasks.SemiRun"),
    "tsne": ("ssl_study.study.workers.tsne_map",),
    #: notebook 3's initial encoders: the architecture, and the seeding of its initialisers (Keras as a worker and a
    #: notebook import it: `import_keras`)
    "init": ("ssl_study.compute.models.build_encoder", "ssl_study.compute.models.import_keras"),
    #: the weight-scale controls of notebook 4 (issue 29)
    "scale": ("ssl_study.compute.models.rescaled_like",),
}
#: where every task of those kinds goes through: the executor's call in a worker (one thread, the sequential joblib
#: backend) and the worker's dispatch; their own code is in each kind's fingerprint, but what they call is not followed
#: from them (each kind's runner is its own root: a pretext's code is not a fit's)
SHALLOW = ("ssl_study.study.executor._compute", "ssl_study.study.workers.compute")
#: the registries of units, by the family whose shared code runs them
FAMILIES = {"fit": FIT_KINDS, "pretext": PRETEXTS, "semi": SEMI_METHODS}
#: what a unit's class says for readers only, or the version itself: not part of what a task computes
PRESENTATION = {"title", "label", "scratch_label", "colour", "line", "examples", "version"}

Node = tuple[str, str]  #: (module, top-level name)


def _source(name: str) -> str:
    """The source of a package module, read from its file (it is not imported)."""
    return Path(importlib.util.find_spec(name).origin).read_text()


@functools.cache
def _module(name: str) -> tuple[dict[str, ast.stmt], dict[str, tuple[str, str | None]]]:
    """A package module's top-level definitions (name -> statement) and its imports of package modules, anywhere in
    the module (alias -> (module, name), name None for a module)."""
    tree = ast.parse(_source(name))
    package = name if importlib.util.find_spec(name).origin.endswith("__init__.py") else name.rsplit(".", 1)[0]
    definitions, imports = {}, {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions[stmt.name] = stmt
        for target in _targets(stmt):
            definitions[target] = stmt
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            for alias in node.names:
                if base.startswith(PACKAGE):
                    full = f"{base}.{alias.name}"
                    imports[alias.asname or alias.name] = (full, None) if _is_module(full) else (base, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE) and alias.asname:
                    imports[alias.asname] = (alias.name, None)
    return definitions, imports


def _targets(stmt: ast.stmt) -> list[str]:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
    return [t.id for t in targets if isinstance(t, ast.Name)]


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join(parts + ([node.module] if node.module else []))


@functools.cache
def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _resolve(module: str, name: str) -> Node | None:
    """Where the name ``name`` of ``module`` is defined (following re-exports), or None outside the package."""
    definitions, imports = _module(module)
    if name in definitions:
        return module, name
    if name in imports and imports[name][1] is not None:
        return _resolve(*imports[name])
    return None


def _references(module: str, stmt: ast.stmt) -> set[Node]:
    """The package's definitions that a statement names: plain names, and attributes of an imported module."""
    _, imports = _module(module)
    found = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name):
            target = _resolve(module, node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and imports.get(node.value.id, ("", ""))[1] is None:  # ``module.name`` of an imported module
            target = _resolve(imports[node.value.id][0], node.attr)
        else:
            continue
        if target:
            found.add(target)
    return found


def closure(roots) -> set[Node]:
    """Every definition of the package that the ``roots`` (dotted names, or (module, name) pairs) reach."""
    todo = [tuple(r.rsplit(".", 1)) if isinstance(r, str) else r for r in roots]
    seen: set[Node] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if ".".join(node) not in SHALLOW:
            todo.extend(_references(node[0], _module(node[0])[0][node[1]]) - seen)
    return seen


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


def _presentation(node: ast.stmt) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return node.name in PRESENTATION
    targets = _targets(node)
    return bool(targets) and all(t in PRESENTATION for t in targets)


def source_fingerprint(source: str) -> str:
    """sha256 of the syntax tree of Python source, without docstrings and classes' presentation attributes (comments,
    line numbers and formatting are not in a syntax tree): a wording edit leaves it unchanged, a changed line does
    not."""
    tree = _essential(ast.parse(textwrap.dedent(source)))
    return hashlib.sha256(ast.dump(tree, annotate_fields=True, include_attributes=False).encode()).hexdigest()


def _unit(kind: str):
    family, name = kind.split(":", 1)
    return FAMILIES[family][name]


def unit_roots(kind: str) -> tuple:
    """Where the code of ``kind`` starts: `ROOTS` (and `SHALLOW` for the kinds the executor runs), or a unit's class
    (``fit:knn``, ``pretext:siamese``) -- with the class of the kind it starts from (`FitKind.after`: a fine-tuning
    starts from its probe's result)."""
    if ":" not in kind:
        return ROOTS[kind] + (SHALLOW if kind in FAMILIES else ())
    cls = _unit(kind)
    after = FIT_KINDS[cls.after] if kind.startswith("fit:") and cls.after else None
    return ((cls.__module__, cls.__name__),) + (((after.__module__, after.__name__),) if after else ())


def code(kind: str) -> set[Node]:
    """The definitions a task of ``kind`` runs; for a unit, less what its family's shared code reaches."""
    reached = closure(unit_roots(kind))
    return reached - closure(unit_roots(kind.split(":", 1)[0])) if ":" in kind else reached


def code_fingerprint(kind: str) -> str:
    """The fingerprint of `code`: each definition's `source_fingerprint`, in a fixed order."""
    digest = hashlib.sha256()
    for module, name in sorted(code(kind)):
        stmt = _module(module)[0][name]
        digest.update(f"{module}.{name}:".encode() + source_fingerprint(ast.unparse(stmt)).encode())
    return digest.hexdigest()


def kinds() -> list[str]:
    """Every kind whose code is checked: the task kinds, and each unit shipped in the package (``fit:knn``,
    ``pretext:siamese``, ``semi:fixmatch``; a unit registered elsewhere -- a test's -- is not)."""
    shipped = [f"{family}:{name}" for family, registry in FAMILIES.items() for name, cls in sorted(registry.items())
               if cls.__module__.startswith(f"{PACKAGE}.")]
    return [*VERSIONS, *shipped]


def check() -> list[str]:
    """What is out of step with ``task_versions.json``: one sentence per kind."""
    recorded = json.loads(LOCK.read_text()) if LOCK.exists() else {}
    problems = []
    for kind in kinds():
        now, record = code_fingerprint(kind), recorded.get(kind)
        if record is None:
            problems.append(f"{kind}: not recorded yet; run `python -m ssl_study.study.fingerprints --record`.")
        elif record["code"] != now and record["version"] == version(kind):
            where = f"the `version` of {_unit(kind).__name__}" if ":" in kind else f"VERSIONS[{kind!r}]"
            problems.append(f"{kind}: the code this task kind runs changed but its version was not bumped: bump "
                            f"{where} in the same commit (its cached results will be computed again), then run "
                            "`python -m ssl_study.study.fingerprints --record`.")
        elif record["code"] != now or record["version"] != version(kind):
            problems.append(f"{kind}: version {version(kind)} is not recorded yet; run "
                            "`python -m ssl_study.study.fingerprints --record`.")
    return problems


def record(refactored: tuple[str, ...] = ()) -> list[str]:
    """Record the fingerprints of the kinds that were bumped or are new; refuses while a changed kind is not bumped,
    unless it is named in ``refactored``: a change of code that computes the same results (a function moved or split,
    an annotation, a base class), shown by a replay that computes nothing and leaves every results file unchanged, or by
    `make verify` -- its cached results are kept."""
    recorded = json.loads(LOCK.read_text()) if LOCK.exists() else {}
    refused = [p for p in check() if "was not bumped" in p and p.split(": ", 1)[0] not in refactored]
    if refused:
        raise SystemExit("\n".join(refused))
    changed = []
    for kind in kinds():
        entry = {"version": version(kind), "code": code_fingerprint(kind)}
        if recorded.get(kind) != entry:
            recorded[kind] = entry
            changed.append(kind)
    LOCK.write_text(json.dumps({k: recorded[k] for k in sorted(recorded) if k in kinds()}, indent=1) + "\n")
    return changed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--record" in argv:
        refactored = tuple(argv[argv.index("--refactor") + 1:]) if "--refactor" in argv else ()
        print(f"recorded: {', '.join(record(refactored)) or 'nothing changed'}")
        return 0
    problems = check()
    print("\n".join(problems) or "every task kind's code matches its recorded version")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
