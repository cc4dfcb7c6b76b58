"""Faults a hostile or unlucky user meets, each reproduced and shown handled: runs at once, a damaged fit cache, Ctrl-C
at three phases, damaged archives and files, a publication that fails half-way, bad settings, a data file swapped
behind the decoded-data cache's back. Every refusal is one sentence that names the file or setting; nothing published
is ever left mixed; nothing finished is ever lost.

The tests that run notebooks (the lock, Ctrl-C) use the quick profile with a scratch fit cache, so they never touch
the full profile's committed results.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import uuid
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import make_tree, pack, png_bytes, project_in
from ssl_study.compute import data as data_module, sources

import helpers
import ssl_study.study.executor as executor
import ssl_study.report.publishing as publishing
import ssl_study.run.runner as runner
from helpers import DataError
from ssl_study.config import NOTEBOOKS, ROOT
from ssl_study.study.store import DamagedEntry, Store
from ssl_study.study.tasks import Fit

REAL_DATA = os.environ.get("MNIST_PNG")
needs_data = pytest.mark.skipif(not REAL_DATA, reason="needs the course archive ($MNIST_PNG)")


@pytest.fixture(autouse=True)
def run_environment(monkeypatch):
    """runner.main sets these for its kernels: restored after each test."""
    for name in ("SSL_PROFILE", "SSL_JOBS", "SSL_OUTPUT", "SSL_FIT_CACHE", "SSL_DATASET"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def one_sentence(text: str) -> str:
    """The one line a fault is allowed to print, checked to be one line without tracebacks or object reprs."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text and " at 0x" not in text, text
    return lines[0]


# ---------------------------------------------------------------------------------------------------------------------
# Settings: refused at start-up, before any notebook, naming the variable

@pytest.mark.parametrize("name, value, said", [
    ("SSL_JOBS", "abc", "SSL_JOBS='abc' is not a whole number"),
    ("SSL_JOBS", "0", "SSL_JOBS='0': at least one fit"),
    ("SSL_JOBS", "-2", "SSL_JOBS='-2': at least one fit"),
    ("SSL_PROFILE", "bogus", "Unknown profile 'bogus'"),
    ("SSL_DATASET", "cifar", "Unknown dataset 'cifar': use one of fashion, mnist (SSL_DATASET)"),
    ("SSL_BACKEND", "spark", "SSL_BACKEND='spark': use one of loky, dask"),
    ("KERAS_BACKEND", "torch", "KERAS_BACKEND='torch': this project runs on tensorflow or jax"),
])
def test_a_bad_setting_is_one_sentence_at_start_up(name, value, said, monkeypatch, capsys):
    monkeypatch.setenv(name, value)
    monkeypatch.setattr(runner, "execute", lambda *a: pytest.fail("a notebook ran"))
    assert runner.main(["--profile", "quick"] if name != "SSL_PROFILE" else []) == 2
    assert said in one_sentence(capsys.readouterr().err)


def test_jobs_on_the_command_line_is_checked_too(capsys):
    with pytest.raises(SystemExit):
        runner.build_parser().parse_args(["--jobs", "0"])
    assert "--jobs='0': at least one fit" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------------------
# Damaged or malicious data: one sentence naming the file, never a hang or a raw error

def load(source: Path, tmp_path: Path):
    return helpers.load_mnist(source, cache_dir=tmp_path / "cache", verbose=False)


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels and holds none: what a decompression bomb starts with."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def test_a_truncated_tar_gz_is_named_as_damaged(tree, tmp_path):
    archive = pack(tree, tmp_path / "m.tar.gz")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataError, match="damaged or truncated") as err:
        load(archive, tmp_path)
    assert str(archive) in one_sentence(str(err.value))


def test_a_zip_with_a_bad_checksum_is_named_as_damaged(tree, tmp_path):
    archive = pack(tree, tmp_path / "m.zip")
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as z:
        info = z.infolist()[-1]
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 5] ^= 0xFF  # one byte of the last image's compressed data
    archive.write_bytes(bytes(data))
    with pytest.raises(DataError, match="damaged or truncated") as err:
        load(archive, tmp_path)
    assert str(archive) in one_sentence(str(err.value))


def test_a_truncated_zip_is_named_as_damaged_not_as_an_unknown_format(tree, tmp_path):
    archive = pack(tree, tmp_path / "m.zip")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size - 40])
    with pytest.raises(DataError, match="damaged or truncated") as err:
        load(archive, tmp_path)
    assert "neither a folder" not in str(err.value)


def test_a_decompression_bomb_is_refused_before_decoding(tree, tmp_path):
    (tree / "training" / "4" / "0.png").write_bytes(png_header(20000, 20000))
    with pytest.raises(DataError, match="enormous image") as err:
        load(tree, tmp_path)
    assert "training/4/0.png" in one_sentence(str(err.value))


def test_an_oversized_file_is_refused_before_it_is_read(tree, tmp_path, monkeypatch):
    big = tree / "training" / "4" / "0.png"
    big.write_bytes(png_bytes(np.zeros((28, 28), np.uint8)) + b"\0" * (2 << 20))
    with pytest.raises(DataError, match="far more than one of the course.s PNGs"):
        load(tree, tmp_path)
    archive = pack(tree, tmp_path / "m.tar.gz")
    with pytest.raises(DataError, match="far more than one of the course.s PNGs"):
        load(archive, tmp_path)


def test_a_fifo_named_png_is_refused_without_hanging(tree, tmp_path):
    fifo = tree / "training" / "4" / "9.png"
    os.mkfifo(fifo)
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_raises(lambda: load(tree, tmp_path))), daemon=True)
    reader.start()
    reader.join(timeout=30)
    if reader.is_alive():  # unblock the reader before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("the loader hangs on a FIFO")
    assert isinstance(outcome[0], DataError) and "not a regular file" in str(outcome[0])


def _raises(call):
    try:
        call()
    except Exception as err:  # noqa: BLE001
        return err
    return None


def test_an_unreadable_png_names_the_file_without_an_object_repr(tree, tmp_path):
    (tree / "training" / "2" / "1.png").write_bytes(b"not a png at all")
    with pytest.raises(DataError) as err:
        load(tree, tmp_path)
    assert "training/2/1.png" in one_sentence(str(err.value)) and "BytesIO" not in str(err.value)


@needs_data
def test_a_damaged_archive_stops_the_runner_before_any_notebook(tmp_path, monkeypatch, capsys):
    damaged = tmp_path / "mnist_png.tar.gz"
    with open(REAL_DATA, "rb") as fh:
        damaged.write_bytes(fh.read(4 << 20))
    monkeypatch.setenv("MNIST_PNG", str(damaged))
    monkeypatch.setenv("SSL_DATA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(runner, "execute", lambda *a: pytest.fail("a notebook ran"))
    assert runner.main(["--profile", "quick"]) == 2
    line = one_sentence(capsys.readouterr().err)
    assert "damaged or truncated" in line and str(damaged) in line


# ---------------------------------------------------------------------------------------------------------------------
# The decoded-data cache is keyed by content, not by file sizes and dates

def test_a_png_swapped_for_another_of_the_same_size_and_date_is_noticed(tmp_path):
    tree = make_tree(tmp_path / "src", per_class=2)
    first = load(tree, tmp_path)
    target = tree / "training" / "5" / "0.png"
    stat = target.stat()
    for seed in range(100):  # another image whose PNG has exactly the same size
        other = png_bytes(np.random.default_rng(seed + 1000).integers(0, 256, (28, 28), dtype=np.uint8))
        if len(other) == stat.st_size and other != target.read_bytes():
            break
    else:
        pytest.skip("no PNG of the same size found")
    target.write_bytes(other)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert target.stat().st_size == stat.st_size and target.stat().st_mtime_ns == stat.st_mtime_ns
    second = load(tree, tmp_path)
    assert second.fingerprint != first.fingerprint
    k = list(second.files).index("training/5/0.png")
    assert not np.array_equal(second.images[k], first.images[k])


# ---------------------------------------------------------------------------------------------------------------------
# The fit cache: a damaged file never loses a finished fit, and is named in one line

def fake_fits(n: int) -> list[Fit]:
    return [Fit(kind="supervised", amount=f"{k + 1}/class", n_labels=10 * (k + 1), seed=0, epochs=1, batch_size=8,
                recipe=helpers.Recipe(), data="d" * 64, split="s" * 64) for k in range(n)]


def test_a_damaged_cache_file_is_recomputed_alone_and_named(tmp_path, monkeypatch, capfd):
    computed = []

    def compute(task, kind, key, paths, env, versions):
        computed.append(task.n_labels)
        Store(paths["cache"]).put(kind, key, {}, {"accuracy": task.n_labels / 100, "weights": np.ones(3)})

    monkeypatch.setattr(executor, "_compute", compute)
    monkeypatch.setenv("SSL_FIT_CACHE", str(tmp_path / "cache"))
    profile = helpers.get_profile("quick")
    tasks = fake_fits(4)
    first = executor.run_tasks(tasks, profile, {}, jobs=1)
    assert computed == [10, 20, 30, 40]
    entries = sorted((tmp_path / "cache" / "fit").glob("*.json"), key=lambda p: Store(tmp_path / "cache").get(
        "fit", p.stem)["accuracy"])
    entries[1].write_text(entries[1].read_text()[:40])  # a truncated JSON
    entries[2].with_suffix(".npz").write_bytes(b"")  # an empty array file
    (tmp_path / "cache" / "fit" / "notes.txt").write_text("a stray file")  # not an entry: ignored, never deleted
    capfd.readouterr()
    computed.clear()
    again = executor.run_tasks(tasks, profile, {}, jobs=1)
    assert computed == [20, 30]  # only the damaged ones; the other finished fits are read back
    assert [r["accuracy"] for r in again] == [r["accuracy"] for r in first]
    out, err = capfd.readouterr()
    damaged = [line for line in err.splitlines() if "cannot be read" in line]
    assert len(damaged) == 2 and entries[1].name in damaged[0] + damaged[1]
    assert "(2 of 4 from the fit cache)" in out + err
    assert len(Store(tmp_path / "cache")) == 4 and (tmp_path / "cache" / "fit" / "notes.txt").exists()


def test_a_prune_keeps_what_another_run_wrote_after_this_one_started(tmp_path):
    store = Store(tmp_path)
    store.put("fit", "old", {}, {"a": 1})
    os.utime(tmp_path / "fit" / "old.json", (time.time() - 60, time.time() - 60))
    started = time.time() - 1
    store.put("fit", "new", {}, {"a": 2})  # another run's, written while this one ran
    assert store.prune(set(), written_before=started) == 1
    assert [key for _, key in store.entries()] == ["new"]


# ---------------------------------------------------------------------------------------------------------------------
# Publishing is all or nothing

@pytest.fixture
def project(tmp_path, monkeypatch):
    """A published full profile of placeholder files in ``tmp_path`` and a run's stage beside it."""
    project_in(tmp_path, monkeypatch)
    for folder in ("artefacts/full/cache/fit", "figures", "notebooks", "reports"):
        (tmp_path / folder).mkdir(parents=True)
    for path in ("artefacts/full/cache/fit/k.json", "artefacts/full/summary.csv", "artefacts/full/gone.csv",
                 "figures/a.png", "reports/index.html", *(f"notebooks/{n}" for n in NOTEBOOKS)):
        (tmp_path / path).write_text(f"old {path}")
    return tmp_path


def tree_of(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.relative_to(root).as_posix().startswith("artefacts/.")}


def staged(project: Path) -> Path:
    stage = publishing.prepare_stage("full", NOTEBOOKS)
    for path in ("artefacts/full/summary.csv", "artefacts/full/new.csv", "figures/a.png", "figures/b.png",
                 "reports/index.html", *(f"notebooks/{n}" for n in NOTEBOOKS)):
        (stage / path).write_text(f"new {path}")
    return stage


def test_a_publication_that_fails_at_any_step_leaves_the_previous_one_complete(project, monkeypatch):
    before = tree_of(project)
    real_replace, steps = os.replace, []
    monkeypatch.setattr(os, "replace", lambda a, b: (steps.append(1), real_replace(a, b)))
    publishing.publish("full", staged(project), NOTEBOOKS)
    after, total = tree_of(project), len(steps)
    assert after["artefacts/full/new.csv"] == "new artefacts/full/new.csv" and "artefacts/full/gone.csv" not in after
    for fail_at in range(total):  # every step of the publication, in turn, fails (a disk error, a permission)
        for path, text in before.items():  # the previous publication, again
            (project / path).parent.mkdir(parents=True, exist_ok=True)
            (project / path).write_text(text)
        for path in set(after) - set(before):
            (project / path).unlink(missing_ok=True)
        stage, calls = staged(project), []

        def failing(a, b, fail_at=fail_at, calls=calls):
            calls.append(1)
            if len(calls) == fail_at + 1:
                raise OSError(errno.EACCES, "Permission denied", str(b))
            real_replace(a, b)

        monkeypatch.setattr(os, "replace", failing)
        with pytest.raises(publishing.PublishError, match="previous publication is restored complete") as err:
            publishing.publish("full", stage, NOTEBOOKS)
        monkeypatch.setattr(os, "replace", real_replace)
        one_sentence(str(err.value))
        assert tree_of(project) == before, f"step {fail_at} of {total}"
        assert (stage / "artefacts" / "full" / "new.csv").exists()  # this run's results are kept


def test_an_unwritable_target_is_refused_before_the_first_replacement(project, monkeypatch, capsys):
    before = tree_of(project)
    stage = staged(project)
    reports = project / "reports"
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != reports)  # root may write anywhere: simulated
    with pytest.raises(publishing.PublishError, match="reports is not writable") as err:
        publishing.publish("full", stage, NOTEBOOKS)
    one_sentence(str(err.value))
    assert tree_of(project) == before


def test_a_full_disk_while_staging_is_one_sentence(project, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "summary.csv")

    monkeypatch.setattr(shutil, "copy2", full)
    with pytest.raises(publishing.PublishError, match="No space left on device") as err:
        publishing.prepare_stage("full", [helpers.NOTEBOOK_COMPARISON])
    one_sentence(str(err.value))


def test_a_run_killed_while_publishing_is_undone_by_the_next(project, monkeypatch):
    before = tree_of(project)
    stage, calls = staged(project), []
    real_replace = os.replace

    def killed(a, b):  # the process dies after the fifth rename: nothing of publish's own clean-up runs
        calls.append(1)
        if len(calls) > 5:
            raise SystemExit("killed")
        real_replace(a, b)

    real_undo = publishing._undo
    monkeypatch.setattr(os, "replace", killed)
    monkeypatch.setattr(publishing, "_undo", lambda steps: None)
    with pytest.raises(SystemExit):
        publishing.publish("full", stage, NOTEBOOKS)
    monkeypatch.setattr(os, "replace", real_replace)
    monkeypatch.setattr(publishing, "_undo", real_undo)
    assert tree_of(project) != before  # half published
    assert publishing.recover("full") and tree_of(project) == before
    assert not publishing.recover("full")


# ---------------------------------------------------------------------------------------------------------------------
# One run per profile; exploration runs apart

HOLD = ("import sys, time; from pathlib import Path; import ssl_study.config as c; "
        "import ssl_study.report.publishing as p; "
        "c.PROJECT = c.Layout(Path(sys.argv[1]));\nwith p.run_lock('full'):\n"
        " print('held', flush=True); time.sleep(60)")


def test_a_second_run_says_which_run_holds_the_profile(project, monkeypatch, capsys):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(project)], stdout=subprocess.PIPE,
                              text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(runner, "execute", lambda *a: pytest.fail("a notebook ran"))
        assert runner.main(["--profile", "full"]) == 75
        line = one_sentence(capsys.readouterr().err)
        assert f"pid {holder.pid}" in line and "another run of the 'full' profile is running" in line

        def explore(name, stage, profile_name, parameters):  # an exploration run goes on, in a folder of its own
            assert stage.name.startswith(".explore-full-") and parameters == {"SEED": 7}
            (stage / "artefacts" / "full" / "summary.csv").write_text("explored")
            return {"notebook": name, "seconds": 0.0}

        monkeypatch.setattr(runner, "execute", explore)
        assert runner.main(["--profile", "full", "-p", "SEED", "7", "--only", helpers.NOTEBOOK_COMPARISON]) == 0
        assert (project / "artefacts" / "full" / "summary.csv").read_text() == "old artefacts/full/summary.csv"
    finally:
        holder.kill()
        holder.wait()


class Run:
    """``run_study.py --profile quick ARGS`` (or a driver script) in a process group of its own, as from a terminal;
    its output goes to files, read while it runs."""

    def __init__(self, tmp_path: Path, *args: str, env: dict | None = None, driver: str | None = None):
        self.out, self.err = (tmp_path / f"{uuid.uuid4().hex}.{k}" for k in ("out", "err"))
        command = [sys.executable, "-c", driver] if driver else [sys.executable, str(ROOT / "run_study.py")]
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.process = subprocess.Popen([*command, "--profile", "quick", *args], cwd=ROOT, stdout=out, stderr=err,
                                            env={**os.environ, **(env or {})}, start_new_session=True)

    def wait_for(self, text: str, timeout: float = 300) -> None:
        end = time.time() + timeout
        while text not in self.out.read_text():
            assert self.process.poll() is None, self.err.read_text()
            assert time.time() < end, f"no {text!r} after {timeout} s"
            time.sleep(0.2)

    def interrupt(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does

    def stop(self, signum: int) -> None:
        os.kill(self.process.pid, signum)  # what a CI timeout or ``kill PID`` does: the runner alone gets it

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        code = self.process.wait(timeout=timeout)
        return code, self.out.read_text(), self.err.read_text()


@needs_data
def test_concurrent_real_runs_never_publish_a_mixed_result(tmp_path):
    """A run of the quick profile publishing notebook 1; meanwhile a second plain run is refused, and an exploration
    run with another seed runs in its own folder: the published split is the first run's."""
    env = {"SSL_FIT_CACHE": str(tmp_path / "cache")}
    first = Run(tmp_path, "--only", helpers.NOTEBOOK_SPLIT, env=env)
    first.wait_for(helpers.NOTEBOOK_SPLIT)  # it holds the lock
    second = Run(tmp_path, "--only", helpers.NOTEBOOK_SPLIT, env=env)
    explore = Run(tmp_path, "-p", "SEED", "7", "--only", helpers.NOTEBOOK_SPLIT, env=env)
    code, _, err = second.finish()
    assert code == 75 and "another run of the 'quick' profile is running" in one_sentence(err)
    code, out, err = explore.finish()
    assert code == 0, err
    stage = ROOT / out.strip().splitlines()[-1].split("results kept in ")[1].split(" (not published)")[0]
    code, _, err = first.finish()
    assert code == 0, err
    published = helpers.ARTEFACTS_DIR / "quick" / "split.npz"
    assert helpers.file_sha256(published) != helpers.file_sha256(stage / "artefacts" / "quick" / "split.npz")
    shutil.rmtree(stage)


# ---------------------------------------------------------------------------------------------------------------------
# Ctrl-C at three phases: one line, no process left behind

def processes_marked(mark: str) -> list:
    import psutil

    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("SSL_TEST_MARK") == mark:
                found.append(process)
        except psutil.Error:
            continue
    return found


@pytest.fixture(scope="module")
def split_published(tmp_path_factory):
    """Notebook 1 run and published in the quick profile, once: notebook 2 starts from its split."""
    folder = tmp_path_factory.mktemp("split")
    code, _, err = Run(folder, "--only", helpers.NOTEBOOK_SPLIT, env={"SSL_FIT_CACHE": str(folder / "cache")}).finish()
    assert code == 0, err


@needs_data
@pytest.mark.parametrize("phase", ["kernel start", "fits in flight", "publish"])
def test_ctrl_c_prints_one_line_and_leaves_no_process(phase, tmp_path, split_published):
    mark = uuid.uuid4().hex
    env = {"SSL_FIT_CACHE": str(tmp_path / "cache"), "SSL_TEST_MARK": mark, "SSL_JOBS": "2"}
    if phase == "publish":  # publication made slow enough to be interrupted, by a driver that wraps the runner
        driver = ("import sys, time; import ssl_study.run.runner as r; real = r.publish\n"
                  "def slow(*a):\n print('publishing', flush=True); time.sleep(3); real(*a)\n"
                  "r.publish = slow; sys.exit(r.main(sys.argv[1:]))")
        run = Run(tmp_path, "--only", helpers.NOTEBOOK_SPLIT, env=env, driver=driver)
        run.wait_for("publishing")
        time.sleep(1)
        run.interrupt()
        code, out, err = run.finish()
        assert code == 130 and "waited until the publication was complete" in one_sentence(err)
        assert "published" in out
    else:
        run = Run(tmp_path, "--only", helpers.NOTEBOOK_SUPERVISED, env=env)
        run.wait_for(helpers.NOTEBOOK_SUPERVISED)
        time.sleep(1 if phase == "kernel start" else 10)
        run.interrupt()
        code, out, err = run.finish()
        assert code == 130, err
        assert "interrupted in 02_supervised_baseline.ipynb" in one_sentence(err)
    time.sleep(1)
    left = processes_marked(mark)
    for process in left:
        process.kill()
    assert not left, [p.cmdline() for p in left]


@needs_data
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_sigterm_or_sighup_stops_a_run_as_ctrl_c_does(signum, tmp_path, split_published):
    """A CI timeout's SIGTERM (or a closed terminal's SIGHUP) during fits once ended the run with no word, its loky
    workers and resource trackers orphaned and still computing; now one line, exit 128 + the signal, nothing left."""
    mark = uuid.uuid4().hex
    env = {"SSL_FIT_CACHE": str(tmp_path / "cache"), "SSL_TEST_MARK": mark, "SSL_JOBS": "2"}
    run = Run(tmp_path, "--only", helpers.NOTEBOOK_SUPERVISED, env=env)
    run.wait_for(helpers.NOTEBOOK_SUPERVISED)
    time.sleep(10)  # fits in flight
    run.stop(signum)
    code, out, err = run.finish()
    assert code == 128 + signum, err
    assert f"stopped by {signal.Signals(signum).name} in 02_supervised_baseline.ipynb" in one_sentence(err)
    time.sleep(1)
    left = processes_marked(mark)
    for process in left:
        process.kill()
    assert not left, [p.cmdline() for p in left]


# ---------------------------------------------------------------------------------------------------------------------
# The fit cache's content: checked on every read (issue 31)

def _one_entry(tmp_path):
    store = Store(tmp_path / "cache")
    store.put("fit", "k1", {"n": 1}, {"row": {"test_accuracy": 0.91}, "correct": np.arange(12, dtype=np.uint8)})
    return store, tmp_path / "cache" / "fit" / "k1.json"


def test_an_entry_edited_by_hand_is_damaged_not_served(tmp_path):
    """A JSON edited with its key intact once served 0.123 for every row of the results; now its checksum refuses it,
    naming it, so the run computes it again."""
    store, path = _one_entry(tmp_path)
    assert store.get("fit", "k1")["row"]["test_accuracy"] == 0.91
    path.write_text(path.read_text().replace("0.91", "0.123"))
    with pytest.raises(DamagedEntry, match="fit/k1.json: its content does not match its checksum"):
        store.get("fit", "k1")
    assert not store.has("fit", "k1")


def test_an_array_of_the_wrong_length_is_damaged_not_served(tmp_path):
    store, path = _one_entry(tmp_path)
    np.savez(path.with_suffix(".npz"), a0=np.arange(11, dtype=np.uint8))  # one element short, a valid file
    with pytest.raises(DamagedEntry, match="its arrays are not the ones it recorded"):
        store.get("fit", "k1")
    np.savez(path.with_suffix(".npz"), a0=np.arange(12, dtype=np.int64))  # the right length, another dtype
    with pytest.raises(DamagedEntry, match="its arrays are not the ones it recorded"):
        store.get("fit", "k1")


def test_an_entry_without_a_record_is_given_one_by_the_tool_and_then_served(tmp_path, monkeypatch):
    """Entries written before the checksum existed are refused until ``tools/checksum_cache.py`` records it; the tool
    changes nothing with ``--check``, and reports an edited entry instead of blessing it."""
    import json
    import subprocess
    import sys

    store, path = _one_entry(tmp_path)
    entry = json.loads(path.read_text())
    del entry["content"]
    path.write_text(json.dumps(entry, indent=1) + "\n")
    with pytest.raises(DamagedEntry, match="records no checksum"):
        store.get("fit", "k1")
    env = {**os.environ, "SSL_FIT_CACHE": str(tmp_path / "cache")}
    tool = [sys.executable, str(helpers.ROOT / "tools" / "checksum_cache.py"), "--profile", "quick"]
    check = subprocess.run([*tool, "--check"], env=env, capture_output=True, text=True, cwd=helpers.ROOT)
    assert check.returncode == 1 and "1 entries without a record" in check.stdout
    done = subprocess.run(tool, env=env, capture_output=True, text=True, cwd=helpers.ROOT)
    assert done.returncode == 0 and "1 entries given a record" in done.stdout, done.stderr
    assert store.get("fit", "k1")["row"]["test_accuracy"] == 0.91
    path.write_text(path.read_text().replace("0.91", "0.123"))
    check = subprocess.run([*tool, "--check"], env=env, capture_output=True, text=True, cwd=helpers.ROOT)
    assert check.returncode == 1 and "1 whose record does not match" in check.stdout


@pytest.mark.parametrize("variable, place, said", [
    ("SSL_DATA_CACHE", "file", "is a file, not a folder"),
    ("SSL_FIT_CACHE", "file", "is a file, not a folder"),
    ("SSL_DATA_CACHE", "under a file", "cannot be made"),
    ("SSL_FIT_CACHE", "read-only", "is not writable"),
])
def test_a_cache_that_cannot_be_written_is_one_sentence_at_start_up(variable, place, said, tree, tmp_path,
                                                                      monkeypatch, capsys):
    """A decoded-data or fit cache set to a file, a place that cannot be made, or a read-only folder: once a raw
    traceback (or a fit computed, then lost on its first write); now one sentence naming the variable, before any
    notebook."""
    folder = tmp_path / "cache"
    if place == "file":
        folder.write_text("a file")
    elif place == "under a file":
        (tmp_path / "blocker").write_text("a file")
        folder = tmp_path / "blocker" / "cache"
    else:
        folder.mkdir()
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == folder else real_access(p, mode))
    monkeypatch.setenv(variable, str(folder))
    monkeypatch.setattr(runner, "execute", lambda *a: pytest.fail("a notebook ran"))
    monkeypatch.setattr(runner, "load_mnist", lambda verbose=False: helpers.load_mnist(tree, verbose=False))
    assert runner.main(["--profile", "quick"]) == 2
    line = one_sentence(capsys.readouterr().err)
    assert f"{variable}={folder}" in line and said in line


def test_fresh_empties_a_fit_cache_that_is_a_link_to_another_folder(tmp_path, monkeypatch):
    """``--fresh`` on a fit cache that is a symbolic link once said "emptied" and removed nothing."""
    target = tmp_path / "elsewhere"
    Store(target).put("fit", "k1", {}, {"accuracy": 0.5})
    (tmp_path / "cache").symlink_to(target, target_is_directory=True)
    Store(tmp_path / "cache").clear()
    assert (tmp_path / "cache").is_symlink() and target.is_dir() and not any(target.iterdir())


def test_a_worker_killed_while_it_computes_is_one_sentence(tmp_path, monkeypatch):
    """loky's own account of a killed worker ran over five lines of library text; now one sentence that says what is
    kept and what to do."""
    monkeypatch.setattr(executor, "_compute", lambda *args: os._exit(9))  # the worker process dies mid-fit
    monkeypatch.setenv("SSL_FIT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(executor.WorkerStopped) as stopped:
        executor.run_tasks(fake_fits(2), helpers.get_profile("quick"), {}, jobs=2)
    said = str(stopped.value)
    assert "\n" not in said and said.startswith("a worker process was stopped from outside") and "run again" in said


def test_a_file_that_is_no_archive_but_named_like_one_is_one_sentence(tmp_path):
    fake = tmp_path / "mnist_png.tar.gz"
    fake.write_text("hello")
    with pytest.raises(DataError) as refused:
        load(fake, tmp_path)
    assert one_sentence(str(refused.value)).endswith("(it is no tar archive, compressed or not); copy or download "
                                                     "the course's archive again.")


def test_a_notebooks_failure_is_told_in_one_line():
    class PapermillExecutionError(Exception):
        exec_count, ename, evalue = 7, "TerminatedWorkerError", "A worker process was terminated.\n\nThe exit codes"

    said = runner._reason(PapermillExecutionError())
    assert said == "cell 7: TerminatedWorkerError: A worker process was terminated."


# ---------------------------------------------------------------------------------------------------------------------
# What the data loader reads, and the names it meets (issue 31)

def test_only_the_class_pngs_are_read_from_an_archive_or_a_folder(tree, tmp_path, monkeypatch):
    """A large file that is not data (a video beside the folders, a 'README.bin' in an archive) was read in full (and
    hashed); now it is never read, in a folder or a zip."""
    import zipfile

    (tree / "lecture.mp4").write_bytes(b"\0" * (3 << 20))  # 3 MB beside the data: would be refused if read as PNG
    (tree / "training" / "notes.bin").write_bytes(b"\0" * (3 << 20))
    opened = []
    real = sources._read_file
    monkeypatch.setattr(sources, "_read_file", lambda file: opened.append(file.name) or real(file))
    images = load(tree, tmp_path)
    assert len(images) == 60 and "lecture.mp4" not in opened and "notes.bin" not in opened
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for file in sorted(tree.rglob("*.png")):
            z.write(file, f"mnist_png/{file.relative_to(tree).as_posix()}")
        z.writestr("mnist_png/README.bin", b"\0" * (8 << 20))
    read = []
    real_read = zipfile.ZipFile.read
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda self, info, *a: read.append(info.filename) or
                        real_read(self, info, *a))
    assert len(load(archive, tmp_path / "z")) == 60 and "mnist_png/README.bin" not in read


def test_a_class_folder_that_is_a_link_is_followed(tree, tmp_path):
    """A class folder linked from elsewhere was said to hold no images; its images are read."""
    moved = tmp_path / "elsewhere" / "7"
    moved.parent.mkdir()
    (tree / "training" / "7").rename(moved)
    (tree / "training" / "7").symlink_to(moved, target_is_directory=True)
    assert len(load(tree, tmp_path)) == 60


def test_a_hard_linked_tree_packed_by_tar_is_read(tree, tmp_path):
    """``cp -al``, then ``tar`` of a folder holding both copies: tar stores the second name of a file as a hard link
    to the first; once refused as "a link or device" with no way out, now read as the file it names."""
    import tarfile

    twin = tmp_path / "originals"  # every PNG hard-linked once more, flat: no second training/ or testing/ folder
    twin.mkdir()
    for png in tree.rglob("*.png"):
        os.link(png, twin / "-".join(png.relative_to(tree).parts))
    archive = tmp_path / "linked.tar"
    with tarfile.open(archive, "w") as t:
        t.add(twin, arcname="mnist_png/originals")  # first: not data (outside training/ and testing/)
        t.add(tree / "training", arcname="mnist_png/training")  # the same files again: stored as hard links
        t.add(tree / "testing", arcname="mnist_png/testing")
    assert sum(m.islnk() for m in tarfile.open(archive).getmembers()) == 60
    assert len(load(archive, tmp_path)) == 60


def test_a_name_that_is_not_utf8_is_one_sentence(tree, tmp_path):
    odd = os.fsencode(str(tree / "training" / "3")) + b"/\xff\xfe.png"
    with open(odd, "wb") as fh:
        fh.write(png_bytes(np.zeros((28, 28), np.uint8)))
    with pytest.raises(DataError) as refused:
        load(tree, tmp_path)
    said = one_sentence(str(refused.value))
    assert "is not valid UTF-8: rename it" in said and "\\udcff" in said


def test_a_path_the_system_cannot_open_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_PNG", str(tmp_path / ("x" * 300) / "mnist_png"))
    with pytest.raises(DataError) as refused:
        data_module.find_source()
    assert "MNIST_PNG names a path this system cannot open (File name too long)" in one_sentence(str(refused.value))


def test_a_testing_folder_of_copies_is_refused(tree, tmp_path):
    """testing/ filled with copies of training/ PNGs was accepted: test images leaked into training."""
    for digit in range(10):
        for k, png in enumerate(sorted((tree / "training" / str(digit)).glob("*.png"))):
            shutil.copy(png, tree / "testing" / str(digit) / f"{k}.png")
    with pytest.raises(DataError) as refused:
        load(tree, tmp_path)
    assert "holds 30 images that are exact copies of others" in one_sentence(str(refused.value))


def test_a_tree_copied_inside_itself_is_refused(tree, tmp_path):
    """``mnist_png/backup/...`` once loaded 120 images, 60 of them copies, without a word."""
    shutil.copytree(tree, tmp_path / "backup")
    shutil.move(tmp_path / "backup", tree / "backup")
    with pytest.raises(DataError) as refused:
        load(tree, tmp_path)
    assert "holds the course's training/ and testing/ folders twice ('backup/" in one_sentence(str(refused.value))


def test_a_png_whose_digit_is_in_its_alpha_channel_is_refused_an_opaque_colour_one_read(tree, tmp_path):
    """An RGBA PNG whose colour channels are black and whose digit is its alpha was read as an all-black image."""
    from PIL import Image

    digit = np.zeros((28, 28, 4), np.uint8)
    digit[8:20, 12:16, 3] = 255  # the stroke: opaque black on transparent black
    path = tree / "training" / "2" / "0.png"
    Image.fromarray(digit, "RGBA").save(path)
    with pytest.raises(DataError) as refused:
        load(tree, tmp_path)
    assert "has transparent pixels" in one_sentence(str(refused.value))
    digit[..., 3] = 255
    digit[8:20, 12:16, :3] = 255
    Image.fromarray(digit, "RGBA").save(path)  # opaque: converted to greyscale as before
    images = load(tree, tmp_path / "again")
    assert images.images[list(images.files).index("training/2/0.png")].max() == 255


def test_an_exploration_run_removes_the_folders_of_ended_ones_and_keeps_a_running_ones(tmp_path, monkeypatch):
    """Interrupted or killed exploration runs (``-p``) left ``artefacts/.explore-*`` behind (nine piled up)."""
    import json

    project_in(tmp_path, monkeypatch)
    ended = publishing.explore_stage("quick")
    (ended / ".owner").write_text(json.dumps({"pid": 2 ** 22 + 7, "started": 0.0}))  # a process that is gone
    legacy = tmp_path / "artefacts" / ".explore-quick-20261201-000000-abc"  # made before folders had an owner
    legacy.mkdir()
    os.utime(legacy, (time.time() - 86400, time.time() - 86400))  # a day ago
    running = publishing.explore_stage("quick")  # this process: still running
    newest = publishing.explore_stage("quick")
    left = sorted(p.name for p in (tmp_path / "artefacts").glob(".explore-*"))
    assert left == sorted([running.name, newest.name])


def test_a_hard_link_is_held_to_its_targets_size_and_must_name_an_earlier_member(tree, tmp_path):
    """A link named like a PNG whose target is a large file that is not data, or that names no member at all: once
    read in full (its own header says 0 bytes) or a raw KeyError; now one sentence each."""
    import tarfile

    big = tmp_path / "notes.bin"
    big.write_bytes(b"\0" * (3 << 20))
    for target in ("mnist_png/notes.bin", "mnist_png/missing.png"):
        archive = tmp_path / "links.tar"
        with tarfile.open(archive, "w") as t:
            t.add(tree, arcname="mnist_png")
            t.add(big, arcname="mnist_png/notes.bin")
            info = tarfile.TarInfo("mnist_png/training/1/link.png")
            info.type, info.linkname = tarfile.LNKTYPE, target
            t.addfile(info)
        with pytest.raises(DataError) as refused:
            load(archive, tmp_path / target.replace("/", "_"))
        said = one_sentence(str(refused.value))
        assert ("far more than one of the course's PNGs" in said if "notes" in target else
                "which comes nowhere before it" in said)


@pytest.mark.parametrize("where", ["root", "above", "inside"])
def test_a_link_to_the_tree_itself_or_above_it_is_refused(where, tree, tmp_path):
    """A linked folder was followed wherever it pointed: a link to / would have listed the whole disk."""
    target = {"root": tree, "above": tmp_path, "inside": tree / "testing"}[where]
    (tree / "training" / "loop").symlink_to(target, target_is_directory=True)
    with pytest.raises(DataError) as refused:
        load(tree, tmp_path / "out")
    assert "the data folder itself or a folder above or inside it: remove the link" in one_sentence(
        str(refused.value))


def test_a_linked_folder_that_is_not_a_class_folder_is_not_entered(tree, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "training" / "3"
    elsewhere.mkdir(parents=True)
    shutil.copy(tree / "training" / "3" / "0.png", elsewhere / "0.png")
    (tree / "extra").symlink_to(tmp_path / "elsewhere", target_is_directory=True)  # not a class folder: not entered
    assert len(load(tree, tmp_path / "out")) == 60


def test_a_cache_path_the_system_cannot_open_or_a_dangling_link_is_one_sentence(tmp_path):
    from ssl_study.compute.artefacts import ArtefactError, writable_folder

    with pytest.raises(ArtefactError) as refused:
        writable_folder(tmp_path / ("x" * 300) / "cache", "The fit cache", "SSL_FIT_CACHE")
    assert "cannot be opened (File name too long)" in one_sentence(str(refused.value))
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere", target_is_directory=True)
    with pytest.raises(ArtefactError) as refused:
        writable_folder(tmp_path / "dangling", "The fit cache", "SSL_FIT_CACHE")
    assert "is a link to a folder that does not exist" in one_sentence(str(refused.value))


def test_fresh_deletes_the_entries_and_nothing_else(tmp_path):
    """If the fit cache pointed by mistake at a folder of other files, --fresh must not wipe them."""
    store = Store(tmp_path / "cache")
    store.put("fit", "k1", {}, {"accuracy": 0.5, "weights": np.ones(3)})
    (tmp_path / "cache" / "thesis.tex").write_text("mine")
    (tmp_path / "cache" / "fit" / "notes.txt").write_text("mine too")
    store.clear()
    assert len(store) == 0 and (tmp_path / "cache" / "thesis.tex").exists()
    assert (tmp_path / "cache" / "fit" / "notes.txt").exists()


def test_an_exploration_folder_without_an_owner_yet_is_left_alone_for_a_minute(tmp_path, monkeypatch):
    project_in(tmp_path, monkeypatch)
    young = tmp_path / "artefacts" / ".explore-quick-20261207-000000-new"
    young.mkdir(parents=True)  # a concurrent run between making its folder and writing its owner
    publishing.explore_stage("quick")
    assert young.exists()
    os.utime(young, (time.time() - 3600, time.time() - 3600))
    publishing.explore_stage("quick")
    assert not young.exists()
