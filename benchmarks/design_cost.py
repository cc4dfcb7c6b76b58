"""What the full profile's design should cost, before it runs: CPU minutes per part, from measured seconds.

    .venv/bin/python benchmarks/design_cost.py
    .venv/bin/python benchmarks/design_cost.py --addendum   # the addendum's new tasks (issue 29)

Each fit of the design (`helpers.planned_fits`) costs the median seconds of a fit of the same use and amount in the
exploratory run (``artefacts/exploratory/results_*.csv``; the recipe from an encoder costs what a supervised fit does);
each pretext run costs the exploratory run's seconds per epoch of that pretext times the chosen epochs (a run on
part of the unlabelled set sees as many images as a whole one, so it costs as much); each semi-supervised run
the exploratory run's seconds scaled to the chosen budget. ANALYSIS_PLAN.md, section 7, quotes the result; the
run itself measures what it really cost (notebook 6's CPU table and ``benchmarks/results/confirmatory_run.md``).
Writes ``benchmarks/results/design_cost.md``.
"""

from __future__ import annotations

import pandas as pd

import helpers

OUT = helpers.ROOT / "benchmarks" / "results" / "design_cost.md"


def exploratory_fits() -> pd.DataFrame:
    """Every fit of the exploratory run (``artefacts/exploratory``)."""
    folder = helpers.ROOT / "artefacts" / "exploratory"
    return pd.concat([pd.read_csv(folder / f"results_{name}.csv") for name in ("supervised", "pretrained")])


def fit_seconds() -> pd.Series:
    """Median seconds of one fit per (use, amount) in the exploratory run."""
    return exploratory_fits().groupby(["use", "amount"])["seconds"].median()


def pretext_seconds(name: str, settings) -> float:
    """Seconds of one run of pretext ``name`` at ``settings``: the exploratory run's median seconds per epoch of that
    pretext on the whole unlabelled set (``artefacts/exploratory/pretext_runs.csv``, measured in a full run with two
    jobs, as the confirmatory run will be) times the chosen epochs. The selection runs' own seconds are no guide: some
    of them ran beside other experiments (the Siamese pretext's 32 epochs took 164 to 573 seconds)."""
    runs = pd.read_csv(helpers.ROOT / "artefacts" / "exploratory" / "pretext_runs.csv")
    runs = runs[(runs["pretext"] == name) & (runs["encoder"] == name)]
    if runs.empty:
        raise SystemExit(f"the exploratory run has no run of pretext {name}")
    return float((runs["seconds"] / runs["epochs"]).median() * settings.epochs)


def semi_seconds(method: str, settings, fits: pd.DataFrame) -> float:
    """Seconds of one semi-supervised run at ``settings``: the exploratory run's median for the method (FixMatch at
    3,000 steps, pseudo-labelling at 4 rounds), scaled by the chosen steps or rounds (the selection runs' own seconds
    include time they were paused on a shared machine)."""
    exploratory = {"fixmatch": ("steps", 3000), "pseudolabel": ("rounds", 4)}
    median = fits.loc[fits["method"] == method, "seconds"].median()
    key, value = exploratory.get(method, (None, None))
    return float(median * (getattr(settings, key) / value if key else 1))


def main() -> None:
    profile = helpers.PROFILES["full"]
    n_labelled = 28_000
    design = helpers.planned_fits(profile, n_labelled)
    seconds = fit_seconds()
    fits = design[~design["use"].isin(list(helpers.SEMI_METHODS))]
    cost = [seconds.get(("supervised" if use == "recipe" else use, amount), float("nan"))
            for use, amount in zip(fits["use"], fits["amount"])]
    parts = {f"classifier fits of notebooks 2 and 5 ({len(fits)})": sum(cost) / 60}
    encoders = len(profile.sweep_pretexts) * len(profile.sweep_seeds) * len([f for f in profile.unlabelled_fractions
                                                                            if f < 1])
    sweep = [(kind, a) for a in profile.sweep_amounts for kind in helpers.FROZEN_KINDS]
    sweep += [("supervised", a) for a in profile.sweep_finetune_amounts]
    parts[f"the sweep's fits ({encoders * len(sweep)})"] = encoders * sum(seconds[k] for k in sweep) / 60
    for name in helpers.PRETEXTS:
        pretext = helpers.get_pretext(name)
        runs = len(helpers.pretext_seeds(profile, name))
        sweep = 0
        if name in profile.sweep_pretexts:
            sweep = len(profile.sweep_seeds) * len([f for f in profile.unlabelled_fractions if f < 1])
        parts[f"{pretext.label} pretext runs ({runs} + {sweep} on parts of the unlabelled set)"] = (
            (runs + sweep) * pretext_seconds(name, pretext.settings) / 60)
    for method, unit in helpers.SEMI_METHODS.items():
        n = int((design["use"] == method).sum())
        parts[f"{unit.title} runs ({n})"] = n * semi_seconds(method, unit().settings, exploratory_fits()) / 60
    table = pd.Series(parts, name="CPU minutes").to_frame()
    table.loc["total"] = table["CPU minutes"].sum()
    table["CPU minutes"] = table["CPU minutes"].round(0)
    text = (f"The full profile's design (ANALYSIS_PLAN.md), costed before the run by `benchmarks/design_cost.py`: "
            f"CPU minutes; with two jobs on two cores the wall time is about half the total, plus the notebooks' own "
            f"work. The budget is 240 minutes with two jobs (480 CPU minutes).\n\n{table.to_markdown()}\n")
    OUT.write_text(text)
    print(text)


def tuned_seconds_per_image() -> float:
    """Seconds per training image of a supervised fit, the median over the selection fits of issue 29, both arms and
    every budget (``experiments/results/scarce.json``: two at once on two cores, as the run will be)."""
    import json

    import numpy as np

    runs = pd.DataFrame(json.loads((helpers.ROOT / "experiments" / "results" / "scarce.json").read_text())[
        "runs"])
    repeats = np.ceil(helpers.Recipe().min_epoch_images / runs["labels"])
    return float((runs["seconds"] / (runs["epochs"] * repeats * runs["labels"])).median())


def addendum() -> None:
    """What the addendum's new tasks should cost (ANALYSIS_PLAN_ADDENDUM.md, section 8): the tuned fits (images seen
    times `tuned_seconds_per_image`), the sweep's new pretext runs on parts of the unlabelled set and their fits.
    Writes ``benchmarks/results/addendum_cost.md``."""
    profile, n_labelled = helpers.PROFILES["full"], 28_000
    per_image = tuned_seconds_per_image()
    parts = {}
    for name in ("random", helpers.HEADLINE_PRETEXT, helpers.SCALE_CONTROL):
        fits = helpers.plan_fits("tuned", profile, n_labelled, "d", "s", pretext=name,
                                 encoders={s: "e" for s in range(30)})
        images = sum(f.epochs * -(-f.recipe.min_epoch_images // f.n_labels) * f.n_labels for f in fits)
        parts[f"tuned fits from {helpers.encoder_label(name)} ({len(fits)})"] = images * per_image / 60
    new_seeds = len(profile.sweep_seeds) - 1  # the first run's sweep had seed 0
    runs = new_seeds * len([f for f in profile.unlabelled_fractions if f < 1])
    pretext = helpers.get_pretext(helpers.HEADLINE_PRETEXT)
    parts[f"the sweep's new pretext runs ({runs})"] = runs * pretext_seconds(pretext.name, pretext.settings) / 60
    seconds = fit_seconds()
    sweep = [(kind, a) for a in profile.sweep_amounts for kind in helpers.FROZEN_KINDS]
    sweep += [("supervised", a) for a in profile.sweep_finetune_amounts]
    parts[f"their fits ({runs * len(sweep)})"] = runs * sum(seconds[k] for k in sweep) / 60
    table = pd.Series(parts, name="CPU minutes").to_frame()
    table.loc["total"] = table["CPU minutes"].sum()
    table["CPU minutes"] = table["CPU minutes"].round(0)
    text = (f"The addendum's new tasks (ANALYSIS_PLAN_ADDENDUM.md), costed before its run by `benchmarks/design_cost.py "
            f"--addendum` ({per_image * 1e6:.0f} microseconds per training image, from the selection's fits): CPU "
            f"minutes; with two jobs the wall time is about half. The budget is 240 minutes with two jobs.\n\n"
            f"{table.to_markdown()}\n")
    (OUT.parent / "addendum_cost.md").write_text(text)
    print(text)


if __name__ == "__main__":
    import sys

    addendum() if "--addendum" in sys.argv[1:] else main()
