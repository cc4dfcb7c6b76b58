"""Running tasks: each result is read from the fit cache where it is, else computed in a worker process and cached.

`run_tasks` keys every task (`ssl_study.study.keys`), reads the results the cache (`ssl_study.study.store`) has, and
computes the rest ``jobs`` at a time with joblib -- ``loky`` processes on this machine, or a Dask cluster through
joblib's Dask backend (``$SSL_BACKEND=dask``, ``$SSL_DASK_SCHEDULER``) -- each worker writing its result into the cache
as it finishes. So a re-run with nothing changed reads every result back; an interrupted run loses only the tasks in
flight; a new version of a task kind, or other data, split, encoder or settings, computes the affected tasks again.

Every key a run asks for is noted (`note_keys`), so that the runner can prune the entries no run asks for any more.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

from . import keys, workers
from ..compute import models
from ..config import BACKEND_ENV, DASK_ENV, OUTPUT_ENV
from .design import Profile, default_jobs
from .store import DamagedEntry, Store
from .tasks import Fit, kind_of

KEYS_FILE = "cache-keys.txt"  #: in a run's staging folder: every (kind, key) its notebooks asked the cache for ...
COMPUTED_FILE = "computed.txt"  #: ... and those it computed


def _compute(task, kind: str, key: str, paths: dict, env: dict, versions: dict) -> None:
    """In a worker: compute one task and write its result into the cache (a fine-tuning reads its probe's result)."""
    if versions != keys.task_versions(kind, task) or env != keys.environment():
        raise RuntimeError("This worker runs other code or libraries than the run that planned its task: restart the "
                           "kernel (or run run_study.py again) so that the cache keys match the code that runs.")
    store = Store(paths["cache"])

    def probe_result(probe: Fit) -> dict:
        probe_key = keys.task_key("fit", probe, env)
        try:
            return store.get("fit", probe_key)
        except (KeyError, DamagedEntry):
            _compute(probe, "fit", probe_key, paths, env, keys.task_versions("fit", probe))
            return store.get("fit", probe_key)

    import joblib
    from threadpoolctl import threadpool_limits

    # one BLAS / OpenMP thread, whatever the process: in this one, a loky or a Dask worker; and no nested joblib
    # parallelism (scikit-learn's n_jobs=None). In a loky worker a nested call runs sequentially anyway, but a task of
    # joblib's Dask backend runs under parallel_config(backend="dask"), where effective_n_jobs(None) is the cluster's
    # thread count: k-NN then computed its cosine distances in slices of the training images, one BLAS product per
    # slice, whose last bits differ from the loky run's single product (and a near-tie's neighbour with them)
    with threadpool_limits(1), joblib.parallel_config(backend="sequential"):
        result = workers.compute(task, paths, probe_result)
    store.put(kind, key, keys.plain(task), result, keys.machine())
    models.import_keras().backend.clear_session()


@contextlib.contextmanager
def _backend():
    """joblib's backend for the tasks: ``loky`` processes here, or a Dask cluster (``$SSL_BACKEND=dask``: the
    scheduler at ``$SSL_DASK_SCHEDULER``, else a local cluster of one single-threaded worker per core)."""
    import joblib

    if os.environ.get(BACKEND_ENV, "loky") != "dask":
        yield
        return
    from dask.distributed import Client, LocalCluster

    address = os.environ.get(DASK_ENV)
    with contextlib.ExitStack() as stack:
        if not address:  # a local cluster, closed with the client
            address = stack.enter_context(LocalCluster(n_workers=default_jobs(), threads_per_worker=1))
        stack.enter_context(Client(address))
        stack.enter_context(joblib.parallel_config(backend="dask"))
        yield


def note_keys(pairs, name: str = KEYS_FILE) -> None:
    """Add (kind, key) pairs to the staging folder's `KEYS_FILE` (or ``name``), when a run of run_study.py stages this
    process."""
    if os.environ.get(OUTPUT_ENV):
        with open(Path(os.environ[OUTPUT_ENV]) / name, "a") as fh:
            fh.writelines(f"{kind} {key}\n" for kind, key in pairs)


def noted_keys(folder: Path, name: str = KEYS_FILE) -> set[tuple[str, str]]:
    """The (kind, key) pairs noted in a staging folder."""
    path = Path(folder) / name
    return {tuple(line.split()) for line in path.read_text().splitlines() if line} if path.exists() else set()


class WorkerStopped(RuntimeError):
    """A worker process ended while it computed a task (killed by hand or by the system: out of memory); one
    sentence instead of the pool's own account of it."""


def run_tasks(tasks: list, profile: Profile, paths: dict, jobs: int | None = None, desc: str = "fits") -> list[dict]:
    """Results of ``tasks`` (`Fit`, `PretextRun`, `SemiRun`), in order: read from the cache where they are, else
    computed ``jobs`` at a time (default `default_jobs`) and cached as each finishes. ``tasks`` may also be a list of
    stages (lists of tasks), run one after the other, when a later stage reads an earlier one's results from the cache
    (fine-tuning starts from its probe). ``paths``: ``split`` (the split file) and ``encoders`` (weights fingerprint ->
    file) for the workers. Prints nothing when every result is cached; else one progress line."""
    import joblib
    from tqdm import tqdm

    stages = tasks if tasks and isinstance(tasks[0], list) else [tasks]
    store, env = Store(profile.cache), keys.environment()
    paths = {**paths, "cache": str(profile.cache)}
    keyed = [[(task, kind_of(task), keys.task_key(kind_of(task), task, env)) for task in stage] for stage in stages]
    note_keys((kind, key) for stage in keyed for _, kind, key in stage)
    results: dict[str, dict] = {}
    todo: list[list[tuple]] = []
    for stage in keyed:
        todo.append([])
        for task, kind, key in stage:
            try:
                results[key] = store.get(kind, key)
            except KeyError:
                todo[-1].append((task, kind, key))
            except DamagedEntry as err:
                print(f"fit cache: {err} cannot be read; computing it again", file=sys.stderr)
                todo[-1].append((task, kind, key))
    missing = sum(map(len, todo))
    if missing:
        jobs = jobs or default_jobs()
        total = sum(map(len, keyed))
        with tqdm(total=total, initial=total - missing,
                  desc=f"{desc} ({total - missing} of {total} from the fit cache)",
                  unit="task", file=sys.stdout, ncols=100, mininterval=2, smoothing=0) as bar, _backend():
            for stage in (s for s in todo if s):
                parallel = joblib.Parallel(n_jobs=min(jobs, len(stage)), return_as="generator_unordered")
                with warnings.catch_warnings():
                    # loky replaces a worker whose memory grew (the backend keeps some state per model built): a few
                    # seconds to start another, no result changes (each task seeds itself); not worth a warning
                    warnings.filterwarnings("ignore", "A worker stopped while some jobs were given to the executor")
                    calls = (joblib.delayed(_compute)(task, kind, key, paths, env, keys.task_versions(kind, task))
                             for task, kind, key in stage)
                    try:
                        for _ in parallel(calls):
                            bar.update()
                    except Exception as err:  # noqa: BLE001 -- loky's, under whatever module loky lives in
                        if type(err).__name__ != "TerminatedWorkerError":
                            raise
                        raise WorkerStopped("a worker process was stopped from outside (killed, or out of memory) "
                                            "while it computed a fit; the fits that finished are kept in the fit "
                                            "cache: run again to continue") from None
                for _, kind, key in stage:
                    results[key] = store.get(kind, key)
                note_keys(((kind, key) for _, kind, key in stage), COMPUTED_FILE)
    return [results[key] for stage in keyed for _, _, key in stage]


def embedding_map(features, profile: Profile, made_from: dict):
    """`workers.tsne_map` of ``features``, from the fit cache where it is, else computed here and cached. The map's key
    is made of ``made_from`` -- what the features are computed from: the encoder's identity, the split's fingerprint,
    which images -- never of the features' bytes, whose last bits depend on the processor that computed them."""
    key = keys.task_key("tsne", made_from)
    store = Store(profile.cache)
    note_keys([("tsne", key)])
    try:
        return store.get("tsne", key)["map"]
    except (KeyError, DamagedEntry):
        xy = workers.tsne_map(features)
        store.put("tsne", key, keys.plain(made_from), {"map": xy}, keys.machine())
        note_keys([("tsne", key)], COMPUTED_FILE)
        return xy


def count_cached(cache: Path) -> int:
    """Entries (fits and pretext runs) in a fit cache folder."""
    return len(Store(cache))
