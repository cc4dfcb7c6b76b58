"""The study's figures name every line they draw."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ssl_study.report import plots  # noqa: E402


def test_the_legend_names_a_method_drawn_only_where_labels_are_few():
    """A method run only at the low amounts (the other pretexts) is drawn in the first panel alone; the legend, under
    the panels, must still name it."""
    amounts = {"10/class": 100, "1%": 280, "10%": 2800, "50%": 14000, "100%": 28000}
    rows = [{"method": "supervised", "amount": a, "n_labels": n, "mean": 0.9, "ci95": 0.01} for a, n in amounts.items()]
    rows += [{"method": "rotation_finetune", "amount": a, "n_labels": amounts[a], "mean": 0.92, "ci95": 0.01}
             for a in ("10/class", "1%")]
    fig = plots.plot_accuracy_vs_labels(pd.DataFrame(rows), "test")
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + fig.legends
    names = [text.get_text() for legend in legends for text in legend.get_texts()]
    drawn = {line.get_label() for ax in fig.axes for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert len(legends) == 1 and set(names) == drawn and len(names) == 2, names
    assert not plots.code_names(fig)


def test_amount_ticks_count_images_as_whole_numbers():
    """Amounts read from a table with gaps arrive as floats; a tick still says "100", not "100.0"."""
    gains = pd.DataFrame({"method": "siamese_recipe", "amount": ["10/class", "1%", "10%"],
                          "n_labels": [100.0, 280.0, 2800.0], "gain": [1.0, 0.3, 0.0], "ci_low": [0.8, 0.1, -0.2],
                          "ci_high": [1.2, 0.5, 0.2]})
    fig = plots.plot_gains(gains)
    ticks = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels()]
    assert "10/class\n100" in ticks and not [t for t in ticks if ".0" in t], ticks


def _widths(ax) -> list[float]:
    """The width (in data units) of every filled area of ``ax``: a band's extent along the x axis."""
    from matplotlib.collections import PolyCollection

    widths = []
    for collection in ax.collections:
        if isinstance(collection, PolyCollection):
            widths += [float(path.vertices[:, 0].max() - path.vertices[:, 0].min())
                       for path in collection.get_paths() if len(path.vertices)]
    return widths


def _bars(ax) -> list[float]:
    """The lengths of the error bars of ``ax`` (every segment of every error-bar container)."""
    import numpy as np
    from matplotlib.container import ErrorbarContainer

    lengths = []
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            for lines in container.lines[2]:
                lengths += [float(np.ptp(np.asarray(segment)[:, 1])) for segment in lines.get_segments()]
    return lengths


def test_a_method_with_one_amount_in_a_panel_gets_an_error_bar_not_a_band_of_no_width():
    """The Siamese encoder probed, then fine-tuned is run at 10 % alone among the assignment's amounts: its interval is
    an error bar with caps there; every band drawn has a width."""
    amounts = {"10/class": 100, "1%": 280, "10%": 2800, "50%": 14000, "100%": 28000}
    rows = [{"method": "supervised", "amount": a, "n_labels": n, "mean": 0.95, "ci95": 0.004}
            for a, n in amounts.items()]
    rows += [{"method": "siamese_finetune", "amount": a, "n_labels": amounts[a], "mean": 0.96, "ci95": 0.006}
             for a in ("10/class", "1%", "10%")]
    fig = plots.plot_accuracy_vs_labels(pd.DataFrame(rows), "test")
    low, high = [ax for ax in fig.axes if ax.get_visible()]
    assert _bars(low) == [] and _bars(high) == pytest.approx([0.012])  # one bar: the method alone at 10 %
    assert all(width > 0 for ax in (low, high) for width in _widths(ax)), [_widths(ax) for ax in (low, high)]
    assert "bars" in fig._suptitle.get_text()


def test_an_equivalence_margin_at_one_amount_has_a_width():
    gains = pd.DataFrame({"method": "siamese_recipe", "amount": ["10/class"], "n_labels": [100], "gain": [1.0],
                          "ci_low": [0.8], "ci_high": [1.2], "margin": [0.96]})
    fig = plots.plot_gains(gains)
    widths = [w for ax in fig.axes if ax.get_visible() for w in _widths(ax)]
    assert widths and min(widths) > 0


def test_gains_without_a_margin_draw_no_band_and_name_none():
    """A descriptive curve's gains have no margin of equivalence: the legend must not name a band it does not draw."""
    gains = pd.DataFrame({"method": "siamese_tuned", "amount": ["10/class", "1%"], "n_labels": [100, 280],
                          "gain": [0.2, -0.1], "ci_low": [-0.1, -0.4], "ci_high": [0.5, 0.2], "margin": np.nan})
    fig = plots.plot_gains(gains, one_panel=True)
    names = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "equivalence margin" not in names and not [w for ax in fig.axes for w in _widths(ax)]


def test_two_uses_of_one_encoder_differ_in_colour_and_line():
    """The Siamese encoder under the recipe and probed, then fine-tuned share a figure: not one colour."""
    recipe, finetune, probe = (plots.method_style(f"siamese_{use}") for use in ("recipe", "finetune", "probe"))
    assert len({str(recipe["color"]), str(finetune["color"]), str(probe["color"])}) == 3
    assert recipe["linestyle"] != finetune["linestyle"]
    assert plots.method_style("supervised")["label"] == "trained from scratch"


def test_a_line_is_named_as_its_method_is_everywhere_else():
    """Training from scratch with the tuned recipe is drawn in scratch's colour, and named as its tables name it."""
    from ssl_study.study.methods import method_label

    tuned = "random_tuned"
    assert plots.method_style(tuned)["label"] == method_label(tuned) == "trained from scratch, tuned recipe"
    assert plots.method_style(tuned)["color"] == plots.method_style("supervised")["color"]
