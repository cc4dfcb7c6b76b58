"""The committed notebooks are the deliverable: executed top to bottom in the full profile, renderable as HTML,
and consistent with the committed artefacts and the README."""

import json
import re

import nbformat
import pandas as pd
import pytest

import helpers
from helpers import NOTEBOOKS

FULL = helpers.ARTEFACTS_DIR / "full"


@pytest.fixture(params=NOTEBOOKS)
def notebook(request):
    return nbformat.read(helpers.NOTEBOOKS_DIR / request.param, as_version=4)


def test_six_ordered_notebooks():
    assert sorted(p.name for p in helpers.NOTEBOOKS_DIR.glob("*.ipynb")) == NOTEBOOKS


def test_executed_top_to_bottom_in_the_full_profile_without_errors(notebook):
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert notebook.metadata.get("profile") == "full"


def test_has_one_tagged_parameters_cell_near_the_top(notebook):
    tagged = [k for k, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] < 6
    assert 'os.environ.get(helpers.PROFILE_ENV, "full")' in notebook.cells[tagged[0]].source


def test_renders_as_html(notebook):
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(notebook)
    assert "<html" in html and "Traceback" not in html


def test_nothing_in_a_notebook_redefines_a_helper(notebook):
    helper_names = {n for n in dir(helpers) if not n.startswith("_")}
    defined = {m for c in notebook.cells if c.cell_type == "code" for m in re.findall(r"^def (\w+)", c.source, re.M)}
    assert not defined & helper_names


def test_no_injected_parameters_in_the_committed_notebooks(notebook):
    """A papermill run with parameters is never published: an injected cell would override nbval's quick profile."""
    assert not [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]


def test_progress_bars_leave_one_line(notebook):
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert "\r" not in output.get("text", "")


def test_committed_artefacts_hold_the_full_run():
    """Every fit the full profile's design asks for (`helpers.planned_fits`), and no other, under its seeds."""
    profile = helpers.PROFILES["full"]
    results = pd.concat([pd.read_csv(FULL / "results_supervised.csv"), pd.read_csv(FULL / "results_pretrained.csv")])
    design = helpers.planned_fits(profile, 28_000)
    got = sorted(zip(results["method"], results["amount"], results["seed"]))
    assert got == sorted(zip(design["method"], design["amount"], design["seed"]))
    primary = design[design["amount"].isin(profile.primary_amounts)].groupby("method")["seed"].nunique()
    # the 2 x 2 (ANALYSIS_PLAN.md, section 7): 30 seeds under the recipe, 20 probed, then fine-tuned (issue 19's number)
    assert primary[["supervised", f"{helpers.HEADLINE_PRETEXT}_recipe"]].min() >= 30
    assert primary[[f"{helpers.HEADLINE_PRETEXT}_finetune", "random_finetune"]].min() >= 20
    split = json.loads(helpers.meta_path(FULL / "split.npz").read_text())
    assert split["sizes"] == {"labelled": 28_000, "unlabelled": 28_000, "test": 14_000}
    assert split["seed"] == helpers.CONFIRMATORY_SPLIT_SEED


def test_the_committed_fit_cache_holds_every_fit_of_the_full_run():
    """So that a grader re-renders the notebooks in minutes (make run) without recomputing a fit."""

    profile = helpers.PROFILES["full"]
    from collections import Counter

    from ssl_study.study.store import Store

    entries = Counter(kind for kind, _ in Store(profile.cache).entries())
    design = helpers.planned_fits(profile, 28_000)
    semi = int(design["use"].isin(list(helpers.SEMI_METHODS)).sum())
    parts = len([f for f in profile.unlabelled_fractions if f < 1]) * len(profile.sweep_pretexts) * len(
        profile.sweep_seeds)
    sweep = parts * (len(helpers.FROZEN_KINDS) * len(profile.sweep_amounts) + len(profile.sweep_finetune_amounts))
    # the sweep's encoders on the whole unlabelled set are notebook 4's own: their fits under the sweep's seeds that
    # the design does not make already (its frozen features run under fewer seeds) are the sweep's too
    uses = [(kind, amount) for kind in helpers.FROZEN_KINDS for amount in profile.sweep_amounts] + [
        ("recipe", amount) for amount in profile.sweep_finetune_amounts]
    sweep += sum(len(set(profile.sweep_seeds) - set(design[(design["encoder"] == name) & (design["use"] == kind)
                                                          & (design["amount"] == amount)]["seed"]))
                 for name in profile.sweep_pretexts for kind, amount in uses)
    pretext = sum(len(helpers.pretext_seeds(profile, name)) for name in helpers.PRETEXTS)
    assert entries == {"fit": len(design) - semi + sweep, "semi": semi, "pretext": pretext + parts,
                       "tsne": len(helpers.PRETEXTS) + 1}  # notebook 4's maps of the untrained and every pre-trained


def test_readme_answer_and_results_page_come_from_the_artefacts():
    results = (helpers.ROOT / "docs" / "results.md").read_text()
    block = re.search(r"<!-- results:start.*?<!-- results:end -->", results, re.S).group(0)
    assert (FULL / "summary.md").read_text().strip() in block
    readme = (helpers.ROOT / "README.md").read_text()
    answer = re.search(r"<!-- answer:start.*?<!-- answer:end -->", readme, re.S).group(0)
    assert (FULL / "answer.md").read_text().strip() in answer  # notebook 6's two sentences open the README
    assert readme.index("<!-- answer:start") < readme.index("## Two commands")
    assert readme[:readme.index("## Two commands")].count("\n") < 30, "the commands come after a screenful of text"
    assert len(readme.splitlines()) < 200
    for figure in re.findall(r"\]\(\.\./(figures/[^)]+)\)", block):
        assert (helpers.ROOT / figure).exists()
    for page in re.findall(r"\]\((docs/[^)]+)\)", readme):
        assert (helpers.ROOT / page).exists()
