"""The study's figures name every line they draw."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from ssl_study.report import plots  # noqa: E402


def test_the_legend_names_a_method_drawn_only_where_labels_are_few():
    """A method run only at the low amounts (the other pretexts) is drawn in the first panel alone; the legend, beside
    the second, must still name it."""
    amounts = {"10/class": 100, "1%": 280, "10%": 2800, "50%": 14000, "100%": 28000}
    rows = [{"method": "supervised", "amount": a, "n_labels": n, "mean": 0.9, "ci95": 0.01} for a, n in amounts.items()]
    rows += [{"method": "rotation_finetune", "amount": a, "n_labels": amounts[a], "mean": 0.92, "ci95": 0.01}
             for a in ("10/class", "1%")]
    fig = plots.plot_accuracy_vs_labels(pd.DataFrame(rows), "test")
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
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
