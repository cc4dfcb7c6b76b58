"""Where a run of run_study.py works and how its results replace the published ones: one run per profile at a time,
a staging folder, and a publication that happens completely or not at all.

- **A lock per profile** (`run_lock`, the ``filelock`` package): a run that publishes (or stages in the profile's
  staging folder, ``--no-publish``) holds it from start to end; a second one says in one line which run holds it (or
  waits for it with ``--wait``). The operating system releases the lock of a run that dies, even by ``kill -9``.
- **Staging**: the notebooks write into ``artefacts/.run-<profile>/`` (`stage_of`), laid out like the project. An
  exploration run (``-p NAME VALUE``) stages in a folder of its own, ``artefacts/.explore-<profile>-*/``, takes no run
  lock and can never publish: it only reads the published artefacts it starts from, under the short publication lock.
- **Publication** (`publish`) first checks that every folder it replaces into is writable and on the staging folder's
  file system (so that every step is a rename, which needs no space), then moves each published item aside and the
  staged one in, writing each step to a journal. Any failure undoes the steps done so far, so the previous
  publication stays complete; a run killed half-way is undone the same way by the next run (`recover`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .. import config
from ..config import NOTEBOOKS, Layout


class PublishError(RuntimeError):
    """The staged results could not replace the published ones; the previous publication is complete."""


class LockedError(RuntimeError):
    """Another run of the same profile holds its lock."""


def run_tag(profile_name: str) -> str:
    """A run's name in its staging folder, locks and journal: the profile's for MNIST (the default dataset),
    ``<dataset>-<profile>`` for another (``fashion-full``), so that runs of the two datasets never share them."""
    dataset = config.get_dataset().name
    return profile_name if dataset == config.DEFAULT_DATASET else f"{dataset}-{profile_name}"


def stage_of(profile_name: str) -> Path:
    """The staging folder of a run of ``profile_name`` that may publish (or ``--no-publish``)."""
    return config.PROJECT.artefacts_root / f".run-{run_tag(profile_name)}"


def explore_stage(profile_name: str) -> Path:
    """A new staging folder of its own for an exploration run (``-p``): no other run reads or empties it. The folders
    of earlier exploration runs whose process has ended (interrupted or killed ones piled up) are removed first; a
    running one's stays (its ``.owner`` names its process)."""
    folder = config.PROJECT.artefacts_root
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f".explore-{run_tag(profile_name)}-*"):
        if not _owner_alive(old):
            shutil.rmtree(old, ignore_errors=True)
    stage = Path(tempfile.mkdtemp(prefix=f".explore-{run_tag(profile_name)}-{time.strftime('%Y%m%d-%H%M%S')}-",
                                  dir=folder))
    (stage / ".owner").write_text(json.dumps(_this_process()))
    return stage


def _this_process() -> dict:
    import psutil

    return {"pid": os.getpid(), "started": psutil.Process().create_time()}


def _owner_alive(stage: Path) -> bool:
    """Whether the process that made ``stage`` (its ``.owner``) still runs: the same process id, started at the same
    time (a process id is reused); a folder without an owner counts as running for its first minute."""
    import psutil

    owner_file = stage / ".owner"
    try:
        if not owner_file.exists():  # made a moment ago by a run that has not written its owner yet, or long ago
            return time.time() - stage.stat().st_mtime < 60
        owner = json.loads(owner_file.read_text())
        # (a process's start time is computed from the boot time, which moves a little when the clock is set)
        return abs(psutil.Process(owner["pid"]).create_time() - owner["started"]) < 2
    except (OSError, ValueError, KeyError, TypeError, psutil.Error):
        return False


def destinations(profile_name: str, stage: Path) -> list[tuple[Path, Path]]:
    """(staged folder, published folder) pairs of a run."""
    return list(zip(Layout(stage).folders(profile_name), config.PROJECT.folders(profile_name)))


def _lock_path(profile_name: str, what: str) -> Path:
    config.PROJECT.artefacts_root.mkdir(parents=True, exist_ok=True)
    return config.PROJECT.artefacts_root / f".{what}-{run_tag(profile_name)}.lock"


@contextlib.contextmanager
def run_lock(profile_name: str, wait: bool = False):
    """Hold the profile's run lock for the ``with`` block; `LockedError` (naming the run that holds it) if another
    run holds it and ``wait`` is false. The holder is recorded beside the lock, for that message."""
    from filelock import FileLock, Timeout

    path = _lock_path(profile_name, "run")
    owner = path.with_suffix(".owner.json")
    lock = FileLock(path)
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        try:
            held = json.loads(owner.read_text())
            who = f"pid {held['pid']}, `{held['command']}`, since {held['started']}"
        except (OSError, ValueError, KeyError):
            who = "its process is not recorded"
        raise LockedError(f"another run of the {profile_name!r} profile is running ({who}): wait for it to finish "
                          "(or run with --wait), or stop it first.") from None
    try:
        owner.write_text(json.dumps({"pid": os.getpid(), "command": " ".join(["run_study.py", *sys.argv[1:]]),
                                     "started": time.strftime("%Y-%m-%d %H:%M:%S")}))
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


@contextlib.contextmanager
def publication_lock(profile_name: str):
    """Held while published files are replaced (`publish`) or copied into a stage (`prepare_stage`): short, so a
    reader waits for it."""
    from filelock import FileLock

    with FileLock(_lock_path(profile_name, "publish")):
        yield


def prepare_stage(profile_name: str, notebooks: list[str], stage: Path | None = None) -> Path:
    """An empty staging folder (the profile's, or ``stage``); for a partial run, holding a copy of the published
    artefacts and figures (the cache stays where it is: every run of a profile shares it). A disk too full for the
    copy is one sentence (`PublishError`)."""
    stage = stage or stage_of(profile_name)
    if stage.exists():
        shutil.rmtree(stage)
    try:
        with publication_lock(profile_name):
            for staged, published in destinations(profile_name, stage):
                staged.mkdir(parents=True, exist_ok=True)
                if notebooks != NOTEBOOKS and published.exists() and published.name not in ("notebooks", "reports"):
                    for item in published.iterdir():
                        if item.name != "cache" and not item.name.startswith("."):
                            (shutil.copytree if item.is_dir() else shutil.copy2)(item, staged / item.name)
    except (OSError, shutil.Error) as err:
        shutil.rmtree(stage, ignore_errors=True)
        raise PublishError(f"cannot prepare the staging folder {_shown(stage)} ({_reason(err)}); free some disk "
                           "space or make the folder writable.") from None
    return stage


DONE = "done"  #: the journal's last line once every rename of a publication is done


def _journal(profile_name: str) -> Path:
    return config.PROJECT.artefacts_root / f".previous-{run_tag(profile_name)}" / "journal.jsonl"


def publish(profile_name: str, stage: Path, notebooks: list[str]) -> None:
    """Move the staged files over the published ones (a complete run first moves aside what it no longer makes),
    all or nothing: on any failure every step is undone and `PublishError` says so."""
    moves: list[tuple[Path | None, Path]] = []  # (staged item or None: only remove, published item)
    for staged, published in destinations(profile_name, stage):
        new = sorted(staged.iterdir()) if staged.exists() else []
        names = {item.name for item in new}
        if notebooks == NOTEBOOKS and published.name != "notebooks" and published.exists():
            moves += [(None, old) for old in sorted(published.iterdir())  # (another dataset's folder stays)
                      if old.name != "cache" and not old.name.startswith(".") and old.name not in names
                      and old.name not in config.DATASETS]
        moves += [(item, published / item.name) for item in new]
    aside = _journal(profile_name).parent
    _check_writable(profile_name, stage, aside)
    with publication_lock(profile_name):
        shutil.rmtree(aside, ignore_errors=True)
        aside.mkdir(parents=True)
        steps: list[tuple[str, str]] = []  # (from, to) of each rename done, in order
        try:
            with open(_journal(profile_name), "w") as journal:
                def rename(source: Path, target: Path) -> None:
                    journal.write(json.dumps([str(source), str(target)]) + "\n")
                    journal.flush()
                    os.fsync(journal.fileno())
                    os.replace(source, target)
                    steps.append((str(source), str(target)))

                for k, (item, target) in enumerate(moves):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if target.exists() or target.is_symlink():
                        rename(target, aside / f"{k}-{target.name}")
                    if item is not None:
                        rename(item, target)
                journal.write(json.dumps(DONE) + "\n")  # complete: nothing for `recover` to undo
        except BaseException as err:
            _undo(steps)
            if isinstance(err, (OSError, shutil.Error)):
                raise PublishError(f"publishing failed ({_reason(err)}); the previous publication is restored "
                                   f"complete, and this run's results stay in {_shown(stage)}.") from None
            raise
        shutil.rmtree(aside, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)


def _check_writable(profile_name: str, stage: Path, aside: Path) -> None:
    """Before the first replacement: every folder a publication renames into must be writable and on the staging
    folder's file system (a rename there needs no disk space)."""
    device = stage.stat().st_dev
    for staged, published in destinations(profile_name, stage):
        folder = published if published.exists() else published.parent
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PublishError(f"cannot publish: {_shown(folder)} is not writable; the previous publication is "
                               f"unchanged and this run's results stay in {_shown(stage)}.")
        if folder.stat().st_dev != device:
            raise PublishError(f"cannot publish: {_shown(folder)} is on another file system than the staging folder; "
                               f"this run's results stay in {_shown(stage)}.")
    if not os.access(aside.parent, os.W_OK | os.X_OK):
        raise PublishError(f"cannot publish: {_shown(aside.parent)} is not writable; the previous publication is "
                           f"unchanged and this run's results stay in {_shown(stage)}.")


def _undo(steps) -> None:
    """Rename back, last step first."""
    for source, target in reversed(list(steps)):
        if os.path.lexists(target):
            Path(source).parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, source)


def recover(profile_name: str) -> bool:
    """Undo the publication a killed run left half-done (its journal), restoring the previous one; whether there was
    one (a run killed after its last rename has nothing to undo). Called with the run lock held."""
    journal = _journal(profile_name)
    if not journal.exists():
        shutil.rmtree(journal.parent, ignore_errors=True)
        return False
    steps = []
    for line in journal.read_text().splitlines():
        with contextlib.suppress(ValueError):
            steps.append(json.loads(line))
    undone = DONE not in steps
    if undone:
        _undo(tuple(step) for step in steps if isinstance(step, list) and len(step) == 2)
    shutil.rmtree(journal.parent, ignore_errors=True)
    return undone


def _reason(err: BaseException) -> str:
    """An OS error in a few words: its message and file, without a traceback."""
    if isinstance(err, OSError) and err.strerror:
        return f"{err.strerror}: {_shown(Path(err.filename))}" if err.filename else err.strerror
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _shown(path: Path) -> str:
    """A path relative to the project where it is inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(config.PROJECT.root.resolve()))
    except ValueError:
        return str(path)
