"""The reports of `selection.py`'s parts: the selection rule applied in words to the saved runs (the recipe's, the
semi-supervised methods' and the pretext schedules'), as written to ``experiments/results/<part>.md``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ssl_study.compute.pretexts import PRETEXTS


def decision(table: pd.DataFrame, keys: list[str], score: str, cost: str) -> str:
    """The selection rule in words, for a table of runs (one row per setting and seed): the best setting by mean
    ``score``; the runner-up's paired difference over seeds with its standard error; the winner is chosen if it beats
    the runner-up by more than that, else the cheaper of the two (smaller ``cost``); and whether the choice is at the
    grid's upper edge in ``cost``."""
    scores = table.pivot_table(index=keys, columns="seed", values=score)
    ranked = scores.mean(axis=1).sort_values(ascending=False)
    best, runner_up = ranked.index[0], ranked.index[1]
    diff = (scores.loc[best] - scores.loc[runner_up]).dropna()
    plain = lambda setting: {k: getattr(v, "item", lambda: v)() for k, v in  # noqa: E731
                             zip(keys, setting if len(keys) > 1 else [setting])}
    names, other = plain(best), plain(runner_up)
    beats = diff.mean() > diff.sem()
    chosen = names if beats or names[cost] <= other[cost] else other
    text = (f"Best: {names}; runner-up: {other}, {100 * diff.mean():.2f} ± {100 * diff.sem():.2f} points behind "
            f"(paired over {len(diff)} seeds): " + ("the winner beats it by more than the standard error."
                                                    if beats else "a tie within the standard error: the cheaper one.")
            + f" Chosen: {chosen}.")
    if chosen[cost] == scores.index.get_level_values(cost).max():
        text += f" At the grid's upper edge in {cost}: a grid past it must be tried."
    return text + "\n"


def semi_report(table: pd.DataFrame) -> str:
    """Per method, every candidate setting -- FixMatch's settings at the end of training (its earlier reports are not
    candidates: the cosine schedule has not ended there), pseudo-labelling's settings at each round (a round is a
    whole student, so the number of rounds is a setting) -- with the mean accuracy on the selection images and its
    standard error over seeds, and the decision rule applied: the winner must beat the runner-up by more than the
    standard error of their paired difference, or the cheaper one (fewer steps, rounds or images) is taken."""
    lines, chosen_scores = [], {}
    for method, runs in table.groupby("method"):
        runs = runs.dropna(axis=1, how="all")
        if method == "fixmatch":
            runs = runs[runs["round"] == runs["steps"]]
            keys, cost = ["threshold", "learning_rate", "steps", "ema_momentum", "weight_decay"], ["steps"]
        else:
            keys, cost = ["threshold", "student_images", "round"], ["round", "student_images"]
        keys = [k for k in keys if k in runs]
        scores = runs.pivot_table(index=keys, columns="seed", values="accuracy")
        ranked = scores.mean(axis=1).sort_values(ascending=False)
        best = ranked.index[0]
        report = pd.DataFrame({"accuracy %": scores.mean(axis=1).map(lambda v: f"{100 * v:.2f}"),
                               "± (standard error)": (scores.std(axis=1) / np.sqrt(scores.count(axis=1))).map(
                                   lambda v: f"{100 * v:.2f}"),
                               "− best (points)": [f"{100 * d.mean():+.2f} ± {100 * d.sem():.2f}" for d in
                                                   (scores.loc[[i]].iloc[0] - scores.loc[[best]].iloc[0]
                                                    for i in scores.index)],
                               "seeds": scores.count(axis=1)})
        lines += [f"**{method}**", "", report.reset_index().to_markdown(index=False, disable_numparse=True), ""]
        if len(ranked) > 1:
            runner_up = ranked.index[1]
            diff = (scores.loc[[best]].iloc[0] - scores.loc[[runner_up]].iloc[0]).dropna()
            beats = diff.mean() > diff.sem()
            position = tuple({k: v.item() if hasattr(v, "item") else v for k, v in zip(keys, setting)}
                             for setting in (best, runner_up))
            cheaper = min(position, key=lambda s: tuple(s[k] for k in cost))
            chosen = position[0] if beats else cheaper
            lines += [f"Best {position[0]}; runner-up {position[1]}, {100 * diff.mean():.2f} ± {100 * diff.sem():.2f} "
                      f"points behind (paired over {len(diff)} seeds): " +
                      ("the winner beats it by more than the standard error." if beats else
                       "not more than the standard error, a tie: the cheaper is taken.") + f" Chosen: {chosen}.", ""]
            edges = [k for k in keys if scores.index.get_level_values(k).nunique() > 1
                     and chosen[k] == scores.index.get_level_values(k).max()]
            if edges:
                lines += [f"At the grid's upper edge in {', '.join(edges)}: a grid past it must be tried.", ""]
        else:
            chosen = {k: v.item() if hasattr(v, "item") else v for k, v in zip(keys, best if len(keys) > 1 else [best])}
        chosen_scores[method] = (chosen, scores.loc[[tuple(chosen[k] for k in keys) if len(keys) > 1
                                                     else chosen[keys[0]]]].iloc[0], _semi_seconds(runs, chosen))
    if len(chosen_scores) > 1:
        lines += _method_decision(chosen_scores)
    return "\n".join(lines)


def _semi_seconds(runs: pd.DataFrame, chosen: dict) -> float:
    """Seconds of one run at the ``chosen`` setting: FixMatch's runs of those steps; pseudo-labelling's runs scaled
    to the chosen rounds (a run trains its teacher and one student per round, and records every round)."""
    if "steps" in chosen:
        return float(runs.loc[runs["steps"] == chosen["steps"], "seconds"].mean())
    rounds = runs["round"].max()
    return float(runs["seconds"].mean() * (1 + chosen["round"]) / (1 + rounds))


def _method_decision(chosen: dict) -> list[str]:
    """The semi-supervised method of the confirmatory test (ANALYSIS_PLAN.md, section 3): each method at its chosen
    setting, paired over the selection seeds; the best must beat the runner-up by more than the standard error of
    their difference, otherwise the cheaper (the fewer seconds per run) is taken."""
    means = {m: scores.mean() for m, (_, scores, _) in chosen.items()}
    best, runner_up = sorted(means, key=means.get, reverse=True)[:2]
    diff = (chosen[best][1] - chosen[runner_up][1]).dropna()
    beats = diff.mean() > diff.sem()
    cheaper = min((best, runner_up), key=lambda m: chosen[m][2])
    pick = best if beats else cheaper
    seconds = ", ".join(f"{m} about {chosen[m][2]:.0f} s" for m in (best, runner_up))
    return ["**The method of the confirmatory test**", "",
            f"At their chosen settings: {best} {100 * means[best]:.2f} %, {runner_up} {100 * means[runner_up]:.2f} %; "
            f"{best} ahead by {100 * diff.mean():.2f} ± {100 * diff.sem():.2f} points (paired over {len(diff)} "
            "seeds): " + ("more than the standard error: chosen." if beats else
                          f"not more than the standard error, a tie: the cheaper is taken ({seconds} per run).")
            + f" Chosen: {pick}.", ""]


def schedule_report(table: pd.DataFrame, cap: int | None = None) -> str:
    """Per pretext and setting: the mean over pretext seeds (each the mean over the three subsets) of every score,
    its standard error, and the paired difference from the pretext's best setting on the decision score (the mean of
    the two schedules' accuracies: the recipe's fine-tuning and probe-then-fine-tune, as the study uses the encoder
    under both) with its standard error; the decision rule applied in words; and which schedule suits the chosen
    setting (the recipe with a random head or probe-then-fine-tune, paired over seeds). ``cap``: the most encoder
    passes per unlabelled image the confirmatory run can pay for; longer settings are shown but not candidates."""
    # earlier runs (no pretext column, or no value in it once merged with later ones): Siamese
    table = table.assign(pretext=table.get("pretext", "siamese")).fillna({"pretext": "siamese"})
    table.loc[table["pretext_epochs"] == 0, "pretext"] = "untrained"
    scores = ["knn", "logistic", "recipe", "lp_ft"]
    keys = ["pretext", "learning_rate", "pretext_epochs"]
    per_seed = table.groupby([*keys, "pretext_seed"])[scores].mean()
    per_seed["decision"] = per_seed[["recipe", "lp_ft"]].mean(axis=1)
    control = per_seed.loc["untrained"] if "untrained" in per_seed.index.get_level_values(0) else None
    lines, rows = [], []
    for name, trained in per_seed.drop("untrained", level=0, errors="ignore").groupby(level=0):
        trained = trained.droplevel(0)
        views = PRETEXTS[name].views
        means = trained.groupby(["learning_rate", "pretext_epochs"]).mean()
        affordable = means[means.index.get_level_values(1) * views <= (cap or np.inf)]
        best = affordable["decision"].idxmax()
        rows += _schedule_rows(table, name, trained, best, scores)
        if len(affordable) < 2:
            continue
        lines.append(_schedule_decision(name, trained, means, affordable, best, cap))
    report = pd.DataFrame(rows)
    return "\n".join([report.to_markdown(index=False, disable_numparse=True), "", _control_line(control, scores), "",
                      *[line + "\n" for line in lines]])


def _schedule_rows(table: pd.DataFrame, name: str, trained: pd.DataFrame, best: tuple, scores: list[str]) -> list[dict]:
    """The report's rows of pretext ``name``, one per setting (learning rate, epochs): each score's mean and standard
    error over pretext seeds, the paired difference from the ``best`` setting on the decision score, and the mean
    seconds of one pretext run (from ``table``, the runs)."""
    rows = []
    for setting, group in trained.groupby(["learning_rate", "pretext_epochs"]):
        diff = group["decision"].droplevel([0, 1]) - trained.loc[best, "decision"]
        runs = ((table["pretext"] == name) & (table["learning_rate"] == setting[0])
                & (table["pretext_epochs"] == setting[1]))
        rows.append({"pretext": PRETEXTS[name].label or name, "learning rate": f"{setting[0]:g}",
                     "epochs": setting[1], "seeds": len(group),
                     **{f"{c} %": f"{100 * group[c].mean():.2f} ± {100 * group[c].sem():.2f}" for c in scores},
                     "decision − best (points)": f"{100 * diff.mean():+.2f} ± {100 * diff.sem():.2f}",
                     "seconds": f"{table.loc[runs, 'pretext_seconds'].mean():.0f}"})
    return rows


def _schedule_decision(name: str, trained: pd.DataFrame, means: pd.DataFrame, affordable: pd.DataFrame, best: tuple,
                       cap: int | None) -> str:
    """The selection rule applied in words to pretext ``name``'s ``affordable`` settings (at least two): the ``best``
    against the runner-up, paired over pretext seeds, a tie going to the cheaper; whether the choice is at an edge of
    the grid (or at the budget's limit ``cap``, against the longer runs beyond it); and, at the chosen setting,
    probe-then-fine-tune against the recipe with a random head."""
    ranked = affordable["decision"].sort_values(ascending=False)
    label = PRETEXTS[name].label or name
    beyond = means.index.difference(affordable.index)
    runner_up = ranked.index[1]
    diff = (trained.loc[best, "decision"] - trained.loc[runner_up, "decision"]).dropna()
    beats = diff.mean() > diff.sem()
    # a tie goes to the cheaper setting (fewer epochs); settings of the same length cost the same (a learning
    # rate costs nothing), so between them the tie keeps the higher mean
    cheaper = min(best, runner_up, key=lambda s: s[1])
    chosen = best if beats else cheaper
    tie = ("Not more than the standard error: a tie, and the cheaper one is chosen "
           f"({cheaper[1]} epochs at {cheaper[0]:g})." if best[1] != runner_up[1] else
           "Not more than the standard error: a tie between settings of the same length (the same cost), so the "
           "higher mean stays.")
    text = (f"**{label}**: best on the decision score {best[1]} epochs at {best[0]:g}; runner-up {runner_up[1]} "
            f"epochs at {runner_up[0]:g}, {100 * diff.mean():.2f} ± {100 * diff.sem():.2f} points behind (paired "
            f"over {len(diff)} seeds). " + ("The winner beats it by more than the standard error: chosen."
                                           if beats else tie)
            + f" Chosen: {chosen[1]} epochs at learning rate {chosen[0]:g}.")
    edge = [what for what, values, value in (("length", ranked.index.get_level_values(1), chosen[1]),
                                             ("learning rate", ranked.index.get_level_values(0), chosen[0]))
            if len(set(values)) > 1 and value in (max(values), min(values))]
    if beyond.size and "length" in edge:
        edge.remove("length")
        longer = [f"{e} epochs at {lr:g}: {100 * d.mean():+.2f} ± {100 * d.sem():.2f} points" for lr, e in beyond
                  for d in [(trained.loc[(lr, e), "decision"] - trained.loc[chosen, "decision"]).dropna()]]
        text += (f" Its length is the budget's limit ({cap} encoder passes per unlabelled image); the longer runs "
                 f"beyond it, against the chosen one: {'; '.join(longer)}.")
    if edge:
        text += (f" Its {' and '.join(edge)} {'is' if len(edge) == 1 else 'are'} at an edge of the grid: a grid "
                 "that goes past it must be tried before the choice is final.")
    schedule = (trained.loc[chosen, "lp_ft"] - trained.loc[chosen, "recipe"]).dropna()
    text += (f" At the chosen setting, probe-then-fine-tune minus the recipe with a random head: "
             f"{100 * schedule.mean():+.2f} ± {100 * schedule.sem():.2f} points.")
    return text


def _control_line(control: pd.DataFrame | None, scores: list[str]) -> str:
    """The untrained encoder's (the control's) mean and standard error of each score, or a note that it is absent."""
    return ("(no untrained control in these runs: the report that merges them has it)" if control is None else
            f"Untrained encoder (the control, {len(control)} seeds): " + ", ".join(
                f"{c} {100 * control[c].mean():.2f} ± {100 * control[c].sem():.2f} %" for c in scores) + ".")
