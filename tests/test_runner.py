"""run_study.py publishes a run only when every notebook succeeded, and never touches the fit cache."""

import time

import pytest
from conftest import project_in

import helpers
import ssl_study.report.publishing as publishing
import ssl_study.run.runner as runner


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project of placeholder files in ``tmp_path``, where the runner stages and publishes (no data read)."""
    project_in(tmp_path, monkeypatch)
    monkeypatch.setenv("SSL_FIT_CACHE", str(tmp_path / "artefacts" / "full" / "cache"))
    for name, value in {"SSL_PROFILE": "full", "SSL_JOBS": "1", "SSL_OUTPUT": ""}.items():
        monkeypatch.setenv(name, value)  # runner.main sets them for its kernels; restored after the test
    (tmp_path / "artefacts" / "full" / "cache").mkdir(parents=True)
    (tmp_path / "artefacts" / "full" / "cache" / "fit.pkl").write_text("a finished fit")
    (tmp_path / "artefacts" / "full" / "results_old.csv").write_text("old")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "old.png").write_text("old")
    (tmp_path / "notebooks").mkdir()
    for name in helpers.NOTEBOOKS:
        (tmp_path / "notebooks" / name).write_text("old")
    return tmp_path


def test_a_complete_run_replaces_what_it_publishes_and_keeps_the_cache(project):
    stage = publishing.prepare_stage("full", helpers.NOTEBOOKS)
    assert not list((stage / "artefacts" / "full").iterdir())  # a complete run starts from nothing
    (stage / "artefacts" / "full" / "results_new.csv").write_text("new")
    (stage / "figures" / "new.png").write_text("new")
    (stage / "notebooks" / helpers.NOTEBOOKS[0]).write_text("new")
    publishing.publish("full", stage, helpers.NOTEBOOKS)
    assert sorted(p.name for p in (project / "artefacts" / "full").iterdir()) == ["cache", "results_new.csv"]
    assert (project / "artefacts" / "full" / "cache" / "fit.pkl").read_text() == "a finished fit"
    assert [p.name for p in (project / "figures").iterdir()] == ["new.png"]
    assert (project / "notebooks" / helpers.NOTEBOOKS[0]).read_text() == "new"
    assert (project / "notebooks" / helpers.NOTEBOOKS[1]).read_text() == "old"
    assert not stage.exists()


def test_a_partial_run_starts_from_the_published_artefacts(project):
    stage = publishing.prepare_stage("full", [helpers.NOTEBOOK_COMPARISON])
    assert (stage / "artefacts" / "full" / "results_old.csv").read_text() == "old"
    assert not (stage / "artefacts" / "full" / "cache").exists()
    (stage / "artefacts" / "full" / "summary.csv").write_text("new")
    publishing.publish("full", stage, [helpers.NOTEBOOK_COMPARISON])
    assert sorted(p.name for p in (project / "artefacts" / "full").iterdir()) == [
        "cache", "results_old.csv", "summary.csv"]


def test_a_run_that_fails_publishes_nothing(project, monkeypatch, capsys):
    def fail(name, stage, profile_name, parameters):
        (stage / "artefacts" / "full" / "half-written.csv").write_text("half")
        raise RuntimeError("a cell failed")

    monkeypatch.setattr(runner, "execute", fail)
    assert runner.main(["--jobs", "1"]) == 1
    assert "half-written.csv" not in [p.name for p in (project / "artefacts" / "full").iterdir()]
    assert (project / "artefacts" / "full" / "results_old.csv").read_text() == "old"
    assert "failed" in capsys.readouterr().err


def test_ctrl_c_says_what_is_kept_in_one_line(project, monkeypatch, capsys):
    def interrupted(name, stage, profile_name, parameters):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "execute", interrupted)
    assert runner.main(["--jobs", "1"]) == 130
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "interrupted" in err and "fit cache" in err
    assert (project / "artefacts" / "full" / "results_old.csv").read_text() == "old"


def test_a_kernel_started_ahead_runs_only_the_first_cells_imports_and_setup(tmp_path):
    """`ssl_study.run.kernels`: the next notebook's kernel imports what its first code cell imports and sets up, nothing
    else of it; it is started while the notebook before it runs, taken by its notebook, and shut down after."""
    import asyncio

    import nbformat

    from ssl_study.run.kernels import Ahead, warm_up_of

    first = "import os\nmarker = open('ran-ahead', 'w')\nimport json\nkeras = helpers.setup_notebook()\nprint(1)"
    for name in ("a.ipynb", "b.ipynb"):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import json" if name == "a.ipynb" else first)])
        nbformat.write(nb, tmp_path / name)
    assert warm_up_of(tmp_path / "b.ipynb") == "import os\nimport json\nkeras = helpers.setup_notebook()"
    ahead = Ahead(tmp_path, ["a.ipynb", "b.ipynb"])
    ahead.start_after("b.ipynb")  # the last notebook: none after it
    ahead.start_after("a.ipynb")
    km = ahead.take("b.ipynb")  # its warm-up failed (no helpers in that folder): the notebook starts its own kernel
    assert km is None and ahead.take("b.ipynb") is None and not (tmp_path / "ran-ahead").exists()
    (tmp_path / "b.ipynb").write_text((tmp_path / "b.ipynb").read_text().replace("helpers.setup_notebook()", "1"))
    ahead.start_after("a.ipynb")
    km = ahead.take("b.ipynb")
    assert km is not None and asyncio.run(km.is_alive())
    Ahead.stop(km)
    assert not asyncio.run(km.is_alive())
    ahead.close()


def test_a_ctrl_c_that_python_swallowed_still_stops_the_run(project, monkeypatch, capsys):
    """A SIGINT that arrives while Python runs a callback (an import lock's, say) raises its KeyboardInterrupt there,
    where Python prints "Exception ignored" and goes on: the runner notices the signal after the notebook and stops."""
    import os
    import signal

    def swallowed(name, stage, profile_name, parameters):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here
        except KeyboardInterrupt:
            pass  # as "Exception ignored in ..." does
        return {"notebook": name, "seconds": 0.0}

    monkeypatch.setattr(runner, "execute", swallowed)
    assert runner.main(["--jobs", "1"]) == 130
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "interrupted in 01_split.ipynb" in err
