"""The first page and the words around it (issue 32): p-values for people, the exploratory run's disagreement and the
sweep's two ends worded by what their intervals allow, the index page with its figure at full width, its statistics
folded and its documents rendered, and the notebooks' links to the documents pointed at the rendered pages."""

import re

import numpy as np
import pandas as pd
import pytest

from ssl_study.report import conclusion
from ssl_study.report.words import p_words
from ssl_study.run import pages


@pytest.mark.parametrize("p, said", [(9.87e-09, "p < 0.001"), (0.000719, "p < 0.001"), (0.0143, "p = 0.014"),
                                     (0.113, "p = 0.11"), (1.0, "p > 0.99"), (0.999, "p > 0.99"),
                                     (np.nan, "no p-value")])
def test_p_values_are_written_for_people(p, said):
    assert p_words(p) == said


def gains(rows) -> pd.DataFrame:
    return pd.DataFrame([{"family": f, "method": m, "baseline": "supervised", "amount": a, "n_labels": n, "gain": g,
                          "ci_low": lo, "ci_high": hi, "pairs": 20} for f, m, a, n, g, lo, hi in rows])


def test_the_exploratory_runs_disagreement_is_said_where_the_intervals_do_not_overlap():
    here = gains([("descriptive", "siamese_finetune", "10/class", 100, 1.50, 1.13, 1.87),
                  ("descriptive", "siamese_finetune", "1%", 280, 0.40, 0.10, 0.70)])
    there = gains([("primary", "siamese_finetune", "10/class", 100, 0.07, -0.30, 0.45),
                   ("primary", "siamese_finetune", "1%", 280, 0.30, 0.00, 0.60)])
    said = conclusion.exploratory_sentence(there, here)
    assert "at 10 labels per class, +0.07 [-0.30, +0.45] there against +1.50 [+1.13, +1.87] here" in said
    assert "; at 10 labels per class the two runs' intervals do not overlap: this gain depends on the split" in said
    there.loc[0, ["gain", "ci_low", "ci_high"]] = [1.2, 0.9, 1.5]
    assert conclusion.exploratory_sentence(there, here).endswith("; the two runs' intervals overlap.")


def sweep(low_mean, low_ci, high_mean, high_ci, seeds=5) -> pd.DataFrame:
    return pd.DataFrame([{"method": f"siamese_u{u}_recipe", "pretext": "siamese", "use": "recipe", "unlabelled": u,
                          "amount": "10/class", "n_labels": 100, "mean": m, "ci95": c, "seeds": seeds}
                         for u, m, c in ((280, low_mean, low_ci), (28000, high_mean, high_ci))])


def test_the_sweeps_two_ends_are_worded_by_what_their_intervals_allow():
    overlap = " ".join(conclusion.sweep_sentences(sweep(0.899, 0.004, 0.892, 0.004), "10/class", held_out=0.1))
    assert "the two intervals overlap, so these seeds cannot show that 100 times more images help" in overlap
    assert "10% monitor the pretext task and the rest train it (25,200 of 28,000)" in overlap
    apart = " ".join(conclusion.sweep_sentences(sweep(0.85, 0.004, 0.90, 0.004), "10/class"))
    assert "more unlabelled images did better, the two intervals apart" in apart and "monitor" not in apart
    one = " ".join(conclusion.sweep_sentences(sweep(0.85, np.nan, 0.90, np.nan, seeds=1), "10/class"))
    assert "one seed, so no interval to judge by" in one


FRONT = ("Yes, where labels are scarce: with 10 labels per class (100 images) ... (a gain of 1.08 points).\n\n"
         "<!-- figure -->\n\n**The assignment's comparison**:\n\n| labelled images | gain |\n|---|---:|\n"
         "| 10/class (100) | +1.08 |\n\n<details class=\"statistics\"><summary>The statistics</summary>\n\n"
         "<a id=\"note1\"></a>1. p < 0.001.\n\n</details>\n")


def test_the_index_opens_with_the_two_sentences_then_the_figure_at_full_width_and_links_the_documents(tmp_path):
    front, figures = tmp_path / "front_page.md", tmp_path / "figures"
    front.write_text(FRONT)
    figures.mkdir()
    (figures / pages.FRONT_FIGURES[0]).write_bytes(b"\x89PNG fake")
    html = pages.write_index(tmp_path, front, figures).read_text()
    answer = html.index('<p class="answer">Yes, where labels are scarce')
    image = html.index('<img alt="Test accuracy')
    assert answer < image < html.index("<table") and "width:100%" in html[image:image + 200]
    assert re.search(r'<details class="statistics"><summary>.*</summary>.*p &lt; 0.001.*</details>', html, re.S)
    for _, page, _ in pages.DOCUMENTS:
        assert f'href="{page}"' in html
        written = (tmp_path / page).read_text()
        assert written.startswith("<!DOCTYPE html>") and "<h1" in written  # rendered, not plain text
        assert pages.DOCUMENT_STYLE in written  # text tables left and wrapped, no visible anchor marks
    glossary = (tmp_path / "glossary.html").read_text()
    assert 'href="plan.html"' in glossary and "ANALYSIS_PLAN.md\"" not in glossary


def test_a_notebooks_link_to_a_document_points_at_its_rendered_page():
    html = ('<a href="../ANALYSIS_PLAN.md">plan</a> <a href="../docs/glossary.md">words</a> '
            '<a href="../ANALYSIS_PLAN_ADDENDUM.md">addendum</a> <a href="../README.md">readme</a>')
    assert pages.linked_documents(html) == ('<a href="plan.html">plan</a> <a href="glossary.html">words</a> '
                                            '<a href="addendum.html">addendum</a> <a href="../README.md">readme</a>')


def test_an_exploratory_comparison_on_one_seed_is_said_without_an_interval():
    here = gains([("descriptive", "siamese_finetune", "10/class", 100, -0.80, np.nan, np.nan)])
    there = gains([("primary", "siamese_finetune", "10/class", 100, 0.07, -0.30, 0.45)])
    said = conclusion.exploratory_sentence(there, here)
    assert "+0.07 [-0.30, +0.45] there against -0.80 (one seed) here; one seed gives no interval to compare" in said
    assert "nan" not in said and "[–, –]" not in said


@pytest.mark.parametrize("verdicts, opening", [
    (("better", "better"), "Yes, where labels are scarce"),
    (("undetected", "better"), "Yes, at 1 % of the labels"),  # not "where labels are scarcest"
    (("worse", "undetected"), "No: at 10 labels per class it makes the CNN worse"),
    (("better", "worse"), "It depends on the amount"),
    (("equivalent", "equivalent"), "No, not by a margin that matters"),
    (("equivalent", "undetected"), "Not detectably"),
    (("untested", "untested"), "Not tested in this run"),
])
def test_the_answers_first_words_never_claim_more_than_the_verdicts(verdicts, opening):
    from ssl_study.report import front

    rows = pd.DataFrame({"amount": ["10/class", "1%"], "verdict": list(verdicts)})
    assert front._opening(rows) == opening


def test_the_curves_clause_gives_the_sign_and_is_left_out_without_intervals():
    from ssl_study.report import front

    curve = pd.DataFrame({"family": "descriptive", "method": front.TUNED_SIAMESE, "baseline": front.TUNED_SCRATCH,
                          "amount": ["10/class", "1%"], "n_labels": [100, 280], "ci_low": [0.5, 0.1],
                          "ci_high": [1.5, 0.6], "pairs": [10, 10]})
    never = {"amount": None, "low": None, "high": None, "seeds": 10}
    said = front._more_labels(curve, never)
    assert said.endswith("Along the curve from 100 to 280 labels (descriptive, each start tuned), the gain's 95 % "
                         "interval stays above zero at every amount.")
    assert front._more_labels(curve.assign(pairs=[10, 1]), never) == ""  # an amount without an interval
    bumpy = pd.DataFrame({"family": "descriptive", "method": front.TUNED_SIAMESE, "baseline": front.TUNED_SCRATCH,
                          "amount": ["10/class", "20/class", "1%", "100/class"], "n_labels": [100, 200, 280, 1000],
                          "ci_low": [-0.4, 0.2, -0.3, -0.9], "ci_high": [0.1, 1.0, 0.2, -0.3], "pairs": 10})
    said = front._more_labels(bumpy, {"amount": "10/class", "low": "10/class", "high": "1%", "seeds": 10})
    assert "the gain's 95 % interval is above zero at 200 labels and below zero at 1,000 labels, and first includes " \
           "zero at 100 labels (100 to 280 with the seeds resampled)" in said
    flat = bumpy.assign(ci_low=-1.0, ci_high=1.0)
    assert "interval includes zero at every amount." in front._more_labels(flat, never)


def test_a_paired_difference_claims_a_direction_only_where_its_interval_does():
    assert [conclusion.side(g, h) for g, h in ((2.0, 1.0), (-2.0, 1.0), (0.5, 1.0), (0.8, np.nan))] == [
        "above", "below", "not distinguishable from", "measured against"]
    assert conclusion.gap_words(0.76, np.nan, 1) == "+0.76 points on one seed, no interval"
    assert conclusion.gap_words(4.87, 4.45, 3) == "+4.87 points, 95 % interval [+0.42, +9.32], over 3 seeds"
