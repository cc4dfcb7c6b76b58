"""One-off: convert the joblib fit cache of commit 32a7f75 (pickles) into the plain-data store of
`ssl_study.study.store`.

    .venv/bin/python tools/migrate_cache.py artefacts/full/cache

Each old entry is ``joblib/ssl_study/tasks/<function>/<hash>/{metadata.json,output.pkl}``. Its task is rebuilt from
the ``repr`` in ``metadata.json`` (parsed with `ast`, only the study's dataclasses and literals are accepted: nothing
is evaluated); its result is read with ``joblib.load`` -- the one place that unpickles, here once, on the project's own
committed files -- and written under the task's new key (`ssl_study.study.keys.task_key`), as JSON and ``.npz``. Only
entries made by the code of 32a7f75 are converted (the code versions below); the semi-supervised runs' trained
weights, which nothing reads, are dropped. The old folder is removed afterwards (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import sys
from pathlib import Path

from ssl_study.study import keys
from ssl_study.study.store import Store
from ssl_study.study.tasks import Fit, PretextRun, SemiRun

#: the code versions (``tasks.fit_code()`` etc.) of commit 32a7f75: an entry made by other code is stale, not converted
CURRENT = {"_run_fit": {"tensorflow-2.21.0-keras-3.15.1-86f520e88eafdf83"},
           "_run_semi": {"tensorflow-2.21.0-keras-3.15.1-182c0a5793d054d1"},
           "_run_pretext": {"tensorflow-2.21.0-keras-3.15.1-33e02a55d124e6b7",  # siamese
                            "tensorflow-2.21.0-keras-3.15.1-fccd0602f43cdc65",  # rotation
                            "tensorflow-2.21.0-keras-3.15.1-118615ce6f7cf2c3",  # contrastive
                            "tensorflow-2.21.0-keras-3.15.1-70c85e6cf0d3a9e2"}}  # autoencoder
CURRENT["_run_pretext_subset"] = CURRENT["_run_pretext"]


def _subset_run(**fields) -> PretextRun:
    """An old ``SubsetPretextRun``: now a `PretextRun` on part of the unlabelled set."""
    return PretextRun(**fields, part=True)


CONSTRUCTORS = {**keys.dataclasses_by_name(), "SubsetPretextRun": _subset_run}


def rebuild(node: ast.AST):
    """The value of a ``repr`` of the study's dataclasses: calls of `CONSTRUCTORS` with keyword arguments, literals."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CONSTRUCTORS \
            and not node.args:
        return CONSTRUCTORS[node.func.id](**{kw.arg: rebuild(kw.value) for kw in node.keywords})
    if isinstance(node, ast.Tuple):
        return tuple(rebuild(e) for e in node.elts)
    return ast.literal_eval(node)


def convert(result: dict, task) -> dict:
    """An old result as the new workers return it."""
    if isinstance(task, SemiRun):
        result = {k: v for k, v in result.items() if k != "weights"}  # a whole CNN that nothing reads
    return result


def main(argv: list[str] | None = None) -> int:
    import joblib

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cache", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the old joblib folder")
    args = parser.parse_args(argv)
    old = args.cache / "joblib" / "ssl_study" / "tasks"
    store, env = Store(args.cache), keys.environment()
    counts = {"converted": 0, "stale": 0}
    for meta_path in sorted(old.glob("*/*/metadata.json")):
        function = meta_path.parent.parent.name
        meta = json.loads(meta_path.read_text())
        code = ast.literal_eval(meta["input_args"]["code"])
        if code not in CURRENT[function]:
            counts["stale"] += 1
            continue
        (arg,) = [v for k, v in meta["input_args"].items() if k in ("fit", "run")]
        task = rebuild(ast.parse(arg, mode="eval").body)
        kind = {Fit: "fit", PretextRun: "pretext", SemiRun: "semi"}[type(task)]
        result = convert(joblib.load(meta_path.with_name("output.pkl")), task)
        store.put(kind, keys.task_key(kind, task, env), keys.plain(task), result)
        counts["converted"] += 1
    if not args.keep:
        shutil.rmtree(args.cache / "joblib")
        (args.cache / "libraries.json").unlink(missing_ok=True)
    print(f"converted {counts['converted']} entries, skipped {counts['stale']} stale ones; the store holds "
          f"{len(store)} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
