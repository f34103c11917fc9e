"""Unit tests of class_order's statistics (shared/CLAIMS.md, class_order, 2026-12-03): the
class-blind surrogate, the fixed levels, the order the surrogate gets from class sizes alone,
the order statistics (W and rho of tied orders and of exact halves, the paper order's
conditions and exact chance, the vit_sooner ratios and noise floor) and the verdicts on
constructed results (sgdclaims.claims.class_order.falsify); the generic control and sabotage
tests are in test_falsifiability.py."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from sgdclaims import ranking
from sgdclaims.claims.class_order import falsify, orders, sizes
from sgdclaims.claims.class_order.measure import STREAMS, SURROGATES, surrogate_predictions
from sgdclaims.claims.class_order.readers import (
    accuracy_table,
    curve_table,
    learning_times,
    mi_levels,
)
from sgdclaims.claims.class_order.spec import SPEC
from sgdclaims.claims.class_order.statistics import statistics
from sgdclaims.verdicts import evaluate

# --- the class-blind surrogate ----------------------------------------------------------------


def test_surrogate_has_equal_recall_at_the_model_accuracy_and_uniform_errors():
    y = torch.arange(10).repeat_interleave(torch.arange(150, 250, 10))  # unequal classes
    acc = np.array([0.0, 0.3, 0.77, 1.0])
    preds = surrogate_predictions(y, acc, 10, seed=3)
    assert preds.shape == (4, len(y))
    for c in range(10):
        members = y == c
        right = (preds[:, members] == c).sum(dim=1).numpy()
        np.testing.assert_array_equal(right, np.round(acc * int(members.sum())))
    wrong = preds[1][preds[1] != y]
    counts = np.bincount(wrong.numpy(), minlength=10)
    assert counts.min() > 0.6 * counts.mean()  # spread over every class, none favoured
    assert torch.equal(preds, surrogate_predictions(y, acc, 10, seed=3))


def test_surrogate_streams_differ_by_model_and_seed():
    seeds = {STREAMS.seed(f"surrogate {m}", s) for m in ("cnn", "vit") for s in range(5)}
    assert len(seeds) == 10


def test_fixed_level_is_a_quarter_of_a_perfect_classifiers_term():
    result = falsify.result_of({0: falsify.healthy(0)})
    np.testing.assert_allclose(mi_levels(result), 0.25 * 0.1 * np.log2(10))


def test_surrogate_of_a_healthy_run_learns_no_order():
    """On the constructed run (equal classes), the surrogate's tau ties or scatters: its W
    and paper order miss (the controls hold where the claim holds)."""
    values = statistics(falsify.result_of({s: falsify.healthy(s) for s in falsify.SEEDS}))
    assert values["order_consistency_control"].value < 0.5
    assert values["paper_order_control"].value == 0
    assert values["vit_cnn_agreement_control"].value < 0.5


def test_demonstration_surrogates_are_drawn_by_measure_with_equal_recall():
    """The controls' demonstration writes no surrogate row: each is measure's class-blind
    surrogate, with recall round(a_t n_c) / n_c in every class at the model's accuracy."""
    result = falsify.imbalanced_test_set()
    counts = np.asarray(falsify.IMBALANCED)
    for model, name in SURROGATES.items():
        _, acc = accuracy_table(result, model)
        _, recall = curve_table(result, name, "recall")
        np.testing.assert_allclose(recall, np.round(acc[..., None] * counts) / counts, atol=1e-12)
        _, own = curve_table(result, model, "mi")
        assert not np.allclose(curve_table(result, name, "mi")[1], own)


# --- what class sizes alone give the surrogate ------------------------------------------------


def _shares(counts):
    p = np.asarray(counts, dtype=float) / np.sum(counts)
    return p, 0.25 * p * np.log2(1 / p)


def test_expected_term_rises_from_zero_at_chance_to_the_cap():
    p, _ = _shares(falsify.IMBALANCED)
    terms = sizes.expected_terms(p, np.linspace(0.1, 1.0, 181))
    np.testing.assert_allclose(terms[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(terms[-1], -p * np.log2(p), rtol=1e-12)
    assert (np.diff(terms, axis=0) > 0).all()


def test_crossing_accuracy_is_where_the_expected_term_meets_the_level():
    p, level = _shares(falsify.IMBALANCED)
    cross = sizes.crossing_accuracy(p, level)
    np.testing.assert_allclose(np.diagonal(sizes.expected_terms(p, cross)), level, atol=1e-9)
    equal = sizes.crossing_accuracy(*_shares(np.full(10, 200)))
    assert len(set(equal)) == 1  # equal sizes tie: no order, no paper condition
    assert orders.paper_conditions(equal) == 0
    with pytest.raises(ValueError, match="shares"):
        sizes.crossing_accuracy(np.r_[0.0, np.full(9, 1 / 9)], level)


def test_at_mnist_test_proportions_class_sizes_give_three_of_the_four_conditions():
    """MNIST's 10,000 test images: at equal recall the bigger classes reach the level first."""
    counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    times = sizes.expected_times(*_shares(counts), final_accuracy=0.9)
    assert list(np.argsort(times, kind="stable")) == [1, 2, 7, 3, 9, 4, 0, 8, 6, 5]
    assert orders.paper_conditions(times) == 3 and orders.paper_order_met(times) == 0


def test_a_class_beyond_the_final_accuracy_is_never_learned():
    p, level = _shares(falsify.IMBALANCED)
    times = sizes.expected_times(p, level, final_accuracy=0.55)
    assert np.isinf(times[[5, 8]]).all() and np.isfinite(np.delete(times, [5, 8])).all()


def test_surrogate_paper_order_counts_the_conditions_class_sizes_give():
    values = statistics(falsify.imbalanced_test_set())
    assert values["surrogate_paper_order"].value == 4
    assert values["surrogate_paper_order"].note.count("0 1 2 3 4 6 9 7 5 8") == 1
    healthy = statistics(falsify.result_of({s: falsify.healthy(s) for s in falsify.SEEDS}))
    assert healthy["surrogate_paper_order"].value == 0  # equal classes: all tie


# --- order statistics --------------------------------------------------------------------------


def test_orders_that_tie_every_class_have_no_agreement_and_p_one():
    tau = np.full((3, 10), 100.0)
    assert orders.concordance(tau) == 0.0
    assert ranking.permutation_p(0.0, orders.w_null(tau, 99, 0)) == 1.0
    assert orders.rho(np.ones(10), np.arange(10.0)) == 0.0


def test_paper_order_chance_is_1_in_140_without_ties():
    assert orders.paper_order_chance(np.arange(10.0)) == pytest.approx(1 / 140)


@pytest.mark.parametrize(
    "tau",
    [
        np.array([1.0, 1, 1, 2, 3, 4, 5, 6, 7, 8]),
        np.array([1.0, 2, 3, 4, 5, 6, 7, 9, 9, 9]),
        np.array([1.0, 1, 3, 4, 5, 6, 7, 9, 9, np.inf]),
    ],
)
def test_paper_order_chance_under_ties_counts_every_assignment(tau):
    """Brute force over the values that land on classes 0, 1, 5 and 8."""
    hits = 0
    for idx in itertools.permutations(range(10), 4):
        rest = [i for i in range(10) if i not in idx]
        order = np.empty(10)
        order[[0, 1, 5, 8]] = tau[list(idx)]
        order[[2, 3, 4, 6, 7, 9]] = tau[rest]
        hits += int(orders.paper_order_met(order))
    assert orders.paper_order_chance(tau) == pytest.approx(hits / 5040)


def test_mean_times_ratio_and_geometric_mean_turn_inf_into_nan():
    tau = np.array([[10.0, 20.0], [10.0, np.inf]])
    means = orders.mean_times(tau)
    assert means[0] == 15 and np.isnan(means[1])
    assert np.isnan(orders.geometric_mean(orders.ratios(means, np.array([30.0, 30.0]))))
    assert orders.geometric_mean(np.array([0.5, 2.0])) == pytest.approx(1.0)
    assert orders.mean_times(tau[:1], np.array([5.0]))[0] == 10


def test_noise_floor_is_the_smallest_ratio_of_two_seeds():
    assert orders.noise_floor(np.array([100.0, 125.0, 110.0])) == pytest.approx(0.8)
    assert np.isnan(orders.noise_floor(np.array([100.0, np.nan])))


def test_rank_criteria_compare_exactly():
    for name in ("order_consistency", "vit_cnn_agreement"):
        assert SPEC.check(name).criterion.holds(0.5 - 1e-12)


def test_a_rho_of_exactly_one_half_fails_its_control():
    """These orders have rho = 1/2 exactly (from integer rank sums); in floating point it
    reads 0.49999999999999994, which would meet the control's "< 0.5"."""
    a = np.array([5.0, 5, 2, 3, 5, 0, 5, 1, 1, 3])
    b = np.array([4.0, 0, 2, 1, 4, 1, 5, 0, 0, 0])
    assert ranking.spearman(a, b) < 0.5
    assert orders.rho(a, b) == 0.5
    control = SPEC.check("vit_cnn_agreement").control.criterion
    assert not control.holds(orders.rho(a, b))


def test_paper_conditions_count_each_of_the_four():
    assert orders.paper_conditions(np.array([1.0, 0, 2, 3, 4, 9, 5, 6, 8, 7])) == 4
    assert orders.paper_conditions(np.array([9.0, 0, 2, 3, 4, 8, 5, 6, 1, 7])) == 2
    assert orders.paper_conditions(np.arange(10.0)) == 3  # 0, 1 first, 8 ninth; 5 sixth


# --- verdicts on constructed results -------------------------------------------------------------


def _verdicts(result, scale=None):
    values = statistics(result)
    names = [c.name for c in SPEC.checks if c.kind != "reported"]
    return {n: evaluate(SPEC, n, values, dataset="mnist", scale=scale) for n in names}


def test_a_run_with_the_claimed_order_supports_every_statistic():
    out = _verdicts(falsify.result_of({s: falsify.healthy(s) for s in falsify.SEEDS}))
    assert {n: o.verdict for n, o in out.items() if SPEC.check(n).kind == "statistic"} == {
        n: "supported" for n in out if SPEC.check(n).kind == "statistic"
    }


def test_vit_sooner_is_reported_at_fast_scale():
    result = falsify.result_of({s: falsify.healthy(s) for s in falsify.SEEDS})
    outcome = _verdicts(result, scale="fast")["vit_sooner"]
    assert outcome.verdict == "reported" and outcome.record["would_be"] == "supported"


def test_classes_not_learned_make_the_tau_statistics_not_testable():
    seeds = {s: falsify.healthy(s) for s in falsify.SEEDS}
    start = falsify.CNN_START.copy()
    seeds[1]["cnn"] = falsify.trajectory(start, 11, final=0.45)  # alive, no class >= 0.5
    out = _verdicts(falsify.result_of(seeds))
    assert out["classes_learned_cnn"].verdict == "not met"
    for name in ("order_consistency", "order_consistency_p", "paper_order", "vit_sooner"):
        assert out[name].verdict == "not testable here", name


def test_a_model_below_twice_chance_has_not_converged():
    seeds = {s: falsify.healthy(s) for s in falsify.SEEDS}
    seeds[0]["vit"] = falsify.trajectory(falsify.CNN_START, 2, final=0.18)
    values = statistics(falsify.result_of(seeds))
    assert values["converged"].per_seed[0] == np.inf
    assert values["alive"].value == 1.0


def test_learning_times_of_the_constructed_cnn_follow_its_order():
    result = falsify.result_of({0: falsify.healthy(0)})
    tau = learning_times(result, "cnn")[0]
    assert (np.diff(tau[list(falsify.ORDER)]) >= 0).all()  # ties where two start close
    assert max(tau[0], tau[1]) < min(tau[5], tau[8])
    assert (learning_times(result, "vit")[0] < tau).all()


def test_alive_names_the_seed_and_model_that_collapsed():
    values = statistics(falsify.collapsed_seed())
    assert values["alive"].value == 0.0
    assert "seed 1 (cnn)" in values["alive"].note
    assert values["order_consistency"].dead == ("seed 1 (cnn)",)
