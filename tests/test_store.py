"""The fit cache holds plain data only (JSON and .npz read without pickle), written atomically; a damaged entry is
computed again with one line naming it; only an explicit prune deletes entries; a re-run of the committed study loads
no pickle at all."""

import math
import os
import shutil
import pickle
import subprocess
import sys

import numpy as np
import pytest

import helpers
from ssl_study.study.tasks import from_plain
from ssl_study.study import keys
from ssl_study.config import FIT_CACHE_ENV, OUTPUT_ENV, PROFILE_ENV
from ssl_study.study.executor import COMPUTED_FILE, noted_keys
from ssl_study.report.publishing import stage_of
from ssl_study.study.store import DamagedEntry, Store

RESULT = {"row": {"method": "supervised", "test_accuracy": 0.9123456789012345, "epochs": np.int64(40)},
          "history": {"loss": [1.5, 0.25], "cv_accuracy": {"k=1": 0.5}}, "confusion": [[1, 2], [3, 4]],
          "head": [np.arange(6, dtype="float32").reshape(2, 3), np.ones(3, "float32")],
          "analysis": {"per digit": {0: 0.75, 9: float("nan")}, "images": np.zeros((2, 28, 28, 1), "float32")},
          "none": None}


def test_a_result_reads_back_exactly_as_plain_data(tmp_path):
    store = Store(tmp_path)
    store.put("fit", "k1", {"__class__": "Fit", "seed": 0}, RESULT)
    back = store.get("fit", "k1")
    assert back["row"] == {"method": "supervised", "test_accuracy": 0.9123456789012345, "epochs": 40}
    assert back["history"] == RESULT["history"] and back["confusion"] == RESULT["confusion"]
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(back["head"], RESULT["head"]))
    assert back["analysis"]["per digit"][0] == 0.75 and math.isnan(back["analysis"]["per digit"][9])
    assert back["analysis"]["images"].shape == (2, 28, 28, 1) and back["none"] is None
    assert sorted(p.name for p in (tmp_path / "fit").iterdir()) == ["k1.json", "k1.npz"]  # nothing half-written
    assert store.task("fit", "k1") == {"__class__": "Fit", "seed": 0}


def test_objects_that_are_not_plain_data_are_refused(tmp_path):
    with pytest.raises(TypeError, match="plain data only"):
        Store(tmp_path).put("fit", "k", {}, {"model": object()})


def test_reading_the_store_never_unpickles(tmp_path, monkeypatch):
    Store(tmp_path).put("fit", "k1", {}, RESULT)
    for name in ("load", "loads"):
        monkeypatch.setattr(pickle, name, lambda *a, **k: pytest.fail("a cache entry was unpickled"))
    assert Store(tmp_path).get("fit", "k1")["row"]["method"] == "supervised"


@pytest.mark.parametrize("damage", ["truncate json", "empty json", "other key", "truncate npz"])
def test_a_damaged_entry_is_reported_and_counts_as_missing(tmp_path, damage):
    store = Store(tmp_path)
    store.put("fit", "k1", {}, RESULT)
    json_path, npz_path = tmp_path / "fit" / "k1.json", tmp_path / "fit" / "k1.npz"
    if damage == "truncate json":
        json_path.write_text(json_path.read_text()[:50])
    elif damage == "empty json":
        json_path.write_text("")
    elif damage == "other key":
        json_path.write_text(json_path.read_text().replace('"k1"', '"k2"'))
    else:
        npz_path.write_bytes(npz_path.read_bytes()[:100])
    with pytest.raises(DamagedEntry, match="k1.json"):
        store.get("fit", "k1")
    assert not store.has("fit", "k1") and len(store) == 1  # still there until it is computed again


def test_only_prune_deletes_and_it_counts(tmp_path):
    store = Store(tmp_path)
    for key in ("a", "b", "c"):
        store.put("fit", key, {}, RESULT)
    (tmp_path / "fit" / ".a.json.123.tmp").write_text("an interrupted write")
    assert store.prune({("fit", "a")}) == 2
    assert store.entries() == [("fit", "a")] and not list((tmp_path / "fit").glob("*.tmp"))
    assert not (tmp_path / "fit" / "b.npz").exists()


def test_every_entry_of_the_committed_fit_cache_reads_back_without_pickle(monkeypatch):
    """The committed full run's cache: every entry is JSON (+ .npz without pickle), under the key of its task."""
    for name in ("load", "loads"):
        monkeypatch.setattr(pickle, name, lambda *a, **k: pytest.fail("a cache entry was unpickled"))
    store = Store(helpers.PROFILES["full"].cache)
    entries = store.entries()
    assert len(entries) > 1000
    assert not list(store.folder.rglob("*.pkl"))
    env = keys.environment()
    for kind, key in entries:
        result = store.get(kind, key)
        assert isinstance(result, dict) and "weights" not in result or kind == "pretext"
        task = store.task(kind, key)  # the task it describes gives its key (a t-SNE map's: what it is made from)
        assert keys.task_key(kind, task if kind == "tsne" else from_plain(task), env) == key


def test_an_entry_records_the_machine_that_computed_it_outside_its_key(tmp_path):
    import json


    Store(tmp_path).put("fit", "k1", {}, RESULT, keys.machine())
    entry = json.loads((tmp_path / "fit" / "k1.json").read_text())
    assert {"cpu", "family", "model", "isa", "settings", "blas", "versions"} <= set(entry["machine"])
    assert "TF_NUM_INTRAOP_THREADS" in entry["machine"]["settings"]  # a fit's threads (set by ssl_study)
    assert "machine" not in keys.environment()  # another processor does not recompute everything


NO_PICKLE = '''
import os, pickle, sys
open(os.path.join(os.path.dirname(__file__), f"started-{os.getpid()}"), "w").close()
def _refuse(*args, **kwargs):
    raise RuntimeError("this run unpickled something")
pickle.load = pickle.loads = _refuse
'''

#: another processor, as a replay sees it: every float this machine computes (an initial encoder's weights, an
#: encoder's features) one unit in the last place off; it leaves a file per process where it was used
ONE_ULP_OFF = '''
import numpy as np
import ssl_study.compute.models as models
_build, _encode = models.build_encoder, models.encode
def _mark():
    open(os.path.join(os.path.dirname(__file__), f"perturbed-{os.getpid()}"), "w").close()
def build_encoder(*args, **kwargs):
    encoder = _build(*args, **kwargs)
    encoder.set_weights([np.nextafter(w, np.inf, dtype=w.dtype) for w in encoder.get_weights()])
    _mark()
    return encoder
def encode(*args, **kwargs):
    features = _encode(*args, **kwargs)
    _mark()
    return np.nextafter(features, np.inf, dtype=features.dtype)
models.build_encoder, models.encode = build_encoder, encode
'''


@pytest.mark.skipif(not os.environ.get("MNIST_PNG"), reason="needs the course archive ($MNIST_PNG)")
def test_a_rerun_of_the_committed_study_on_another_processor_computes_nothing_and_unpickles_nothing(tmp_path):
    """``run_study.py`` on the committed full profile (nothing published) with ``pickle.load`` and ``pickle.loads``
    made to raise in the runner and in every kernel, and every float that a replay computes itself -- the initial
    encoders' weights (notebook 3), the encoders' features (notebooks 3 and 4: the t-SNE maps) -- one unit in the last
    place off, as another processor computes them: a ``sitecustomize`` on ``PYTHONPATH``, which also leaves files
    showing it was active. Every result is read back from the fit cache: no key depends on such bits."""
    (tmp_path / "sitecustomize.py").write_text(NO_PICKLE + ONE_ULP_OFF)
    env = {k: v for k, v in os.environ.items() if k not in (PROFILE_ENV, OUTPUT_ENV, FIT_CACHE_ENV)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    # the committed fit cache, hard-linked: whatever a failing replay computes (from weights one ulp off) lands here,
    # never in the committed cache
    cache = tmp_path / "cache"
    shutil.copytree(helpers.PROFILES["full"].cache, cache, copy_function=os.link)
    env[FIT_CACHE_ENV] = str(cache)
    done = subprocess.run([sys.executable, str(helpers.ROOT / "run_study.py"), "--no-publish", "--jobs", "1"],
                          env=env, capture_output=True, text=True, cwd=helpers.ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list(tmp_path.glob("started-*"))) >= 1 + len(helpers.NOTEBOOKS)  # the runner and its six kernels
    assert len(list(tmp_path.glob("perturbed-*"))) >= 2  # notebooks 3 and 4 at least computed floats, one ulp off
    assert not noted_keys(stage_of("full"), COMPUTED_FILE)  # every result read back from the cache
