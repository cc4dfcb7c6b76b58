"""The transfer question of issue 30: one comparison's gain on two datasets, and the test of their difference."""

import numpy as np
import pytest

from ssl_study.report.transfer import transfer_test


def test_the_difference_of_two_independent_gains_has_the_summed_variance_and_welchs_degrees_of_freedom():
    mnist, fashion = {"gain": 1.0, "se": 0.3, "pairs": 30}, {"gain": 3.0, "se": 0.4, "pairs": 20}
    found = transfer_test(mnist, fashion)
    assert found["difference"] == pytest.approx(2.0) and found["se"] == pytest.approx(0.5)
    df = 0.25 ** 2 / (0.09 ** 2 / 29 + 0.16 ** 2 / 19)
    assert found["df"] == pytest.approx(df)
    assert found["ci_low"] < 2.0 < found["ci_high"] and found["p_value"] < 0.01 and found["same_direction"] is True


def test_opposite_directions_and_too_few_seeds_are_said_so():
    assert transfer_test({"gain": 1.0, "se": 0.3, "pairs": 30}, {"gain": -0.5, "se": 0.3, "pairs": 30})[
        "same_direction"] is False
    one_seed = transfer_test({"gain": 1.0, "se": np.nan, "pairs": 1}, {"gain": 2.0, "se": 0.3, "pairs": 30})
    assert np.isnan(one_seed["p_value"]) and one_seed["difference"] == pytest.approx(1.0)
    assert transfer_test({"gain": 0.0, "se": 0.3, "pairs": 30}, {"gain": 2.0, "se": 0.3, "pairs": 30})[
        "same_direction"] is None


def test_a_difference_the_data_cannot_see_is_not_significant():
    found = transfer_test({"gain": 1.0, "se": 0.5, "pairs": 10}, {"gain": 1.3, "se": 0.5, "pairs": 10})
    assert found["p_value"] > 0.5 and found["ci_low"] < 0 < found["ci_high"]


def gains_table(gains: dict[tuple[str, str], tuple[float, float, int]]):
    import pandas as pd

    return pd.DataFrame([{"family": f, "question": f"{f} q", "method": "m", "amount": a, "gain": g, "se": se,
                          "pairs": n} for (f, a), (g, se, n) in gains.items()])


def test_the_transfer_table_pairs_each_comparison_corrects_over_them_and_words_each_by_its_test():
    from ssl_study.report.transfer import transfer_sentences, transfer_table

    mnist = gains_table({("primary", "10/class"): (1.0, 0.14, 30), ("primary", "1%"): (0.3, 0.09, 30),
                      ("semi-supervised", "10/class"): (7.0, 1.0, 5), ("2 x 2", "10/class"): (2.0, 0.2, 20)})
    fashion = gains_table({("primary", "10/class"): (4.0, 0.3, 20), ("primary", "1%"): (0.4, 0.2, 20),
                        ("semi-supervised", "10/class"): (-1.0, 1.0, 5)})
    table = transfer_table(mnist, fashion)
    assert list(table["amount"]) == ["10/class", "1%", "10/class"] and "2 x 2" not in set(table["family"])
    assert (table["p_holm"] >= table["p_value"]).all()
    said = transfer_sentences(table, "MNIST", "Fashion-MNIST")
    assert said[0].startswith("Primary q at 10 labels per class: +1.00 points on MNIST and +4.00 on Fashion-MNIST, "
                              "the same direction; Fashion-MNIST's gain is larger by 3.00 points")
    assert "the data cannot tell the two gains apart (difference +0.10 points" in said[1]
    assert "opposite directions" in said[2]


def test_the_tuned_comparison_on_which_the_answer_rests_comes_first_then_the_first_runs():
    from ssl_study.report.transfer import transfer_table

    gains = {("primary", "10/class"): (1.0, 0.14, 30), ("addendum primary", "10/class"): (-0.2, 0.13, 30),
             ("weight scale", "10/class"): (-0.4, 0.12, 30)}
    table = transfer_table(gains_table(gains), gains_table(gains))
    assert list(table["family"]) == ["addendum primary", "primary"]  # the weight-scale control is not transferred
