"""Losses on hand-computed cases, numerical stability, and gradient checks on real MNIST."""

from __future__ import annotations

import math

import numpy as np
import pytest

from linclass.gradcheck import max_gradient_difference, numerical_gradient
from linclass.losses import (binary_cross_entropy, l2_penalty, logistic_loss_and_grad, sigmoid,
                             softmax, softmax_cross_entropy, softmax_loss_and_grad)
from linclass.preprocess import binary_split, one_hot, ten_class_split

EPSILON = 1e-3


def test_known_values():
    assert sigmoid(np.array(0.0)) == 0.5
    # Zero weights: every class equally likely.
    assert softmax_cross_entropy(np.zeros((4, 10)), np.arange(4)) == pytest.approx(2.302585093, abs=1e-9)
    assert binary_cross_entropy(np.zeros(3), np.array([0, 1, 1])) == pytest.approx(math.log(2))


def test_hand_computed_binary_loss():
    logits, y = np.array([2.0, -1.0]), np.array([1, 0])
    expected = -(math.log(1 / (1 + math.exp(-2))) + math.log(1 - 1 / (1 + math.exp(1)))) / 2
    assert binary_cross_entropy(logits, y) == pytest.approx(expected, rel=1e-12)


def test_hand_computed_softmax_loss():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, math.log(2)]])
    y = np.array([2, 0])
    p0 = math.exp(3) / (math.exp(1) + math.exp(2) + math.exp(3))
    expected = -(math.log(p0) + math.log(1 / 4)) / 2
    assert softmax_cross_entropy(logits, y) == pytest.approx(expected, rel=1e-12)


def test_l2_penalty_with_and_without_bias():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert l2_penalty(W, 0.5) == 0.5 * 30
    assert l2_penalty(W, 0.5, penalize_bias=False) == 0.5 * 5


def test_stable_for_huge_logits():
    big = np.array([[1e6, -1e6, 0.0]])
    assert np.isfinite(softmax_cross_entropy(big, np.array([1])))
    np.testing.assert_allclose(softmax(big).sum(axis=1), 1.0)
    assert binary_cross_entropy(np.array([1e6, -1e6]), np.array([0, 1])) == pytest.approx(1e6)
    assert np.all(np.isfinite(sigmoid(np.array([-1e6, 1e6]))))


def test_softmax_rows_sum_to_one():
    rng = np.random.default_rng(0)
    probabilities = softmax(rng.normal(scale=30, size=(50, 10)))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)


def test_numerical_gradient_of_a_quadratic():
    W = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(numerical_gradient(lambda w: float(np.sum(w ** 2)), W), 2 * W, atol=1e-9)


@pytest.fixture(scope="module")
def small_real_sets(mnist):
    binary, ten = binary_split(mnist), ten_class_split(mnist)
    return binary.X_train[:20], binary.y_train[:20], ten.X_train[:20], ten.y_train[:20]


@pytest.mark.parametrize("l2_strength", [0.0, 0.1])
@pytest.mark.parametrize("penalize_bias", [True, False])
def test_logistic_gradient_matches_central_differences(small_real_sets, l2_strength, penalize_bias):
    X, y, _, _ = small_real_sets
    W = np.random.default_rng(1).normal(scale=0.01, size=(785, 1))
    difference = max_gradient_difference(
        lambda w: logistic_loss_and_grad(w, X, y, l2_strength, penalize_bias), W, EPSILON)
    assert difference < EPSILON ** 2


@pytest.mark.parametrize("l2_strength", [0.0, 0.1])
def test_softmax_gradient_matches_central_differences(small_real_sets, l2_strength):
    _, _, X, y = small_real_sets
    W = np.random.default_rng(2).normal(scale=0.01, size=(785, 10))
    Y = one_hot(y, 10)
    difference = max_gradient_difference(lambda w: softmax_loss_and_grad(w, X, Y, l2_strength), W, EPSILON)
    assert difference < EPSILON ** 2


def test_gradient_check_catches_a_wrong_gradient(small_real_sets):
    X, y, _, _ = small_real_sets
    W = np.random.default_rng(3).normal(scale=0.01, size=(785, 1))

    def half_gradient(w):
        loss, grad = logistic_loss_and_grad(w, X, y)
        return loss, grad / 2

    assert max_gradient_difference(half_gradient, W, EPSILON) > EPSILON ** 2


@pytest.mark.parametrize("seed", range(6))
def test_lanes_stats_have_each_models_own_bits(seed):
    """The validation's stats of L models side by side equal, bit for bit, L calls on each model's
    logits alone (lock-step groups rely on it), ties and an overflowing model included."""
    from linclass.losses import softmax_lanes_loss_sums_and_hits, softmax_loss_sum_and_hits

    rng = np.random.default_rng(seed)
    n_rows, n_models, n_classes = int(rng.integers(1, 2500)), int(rng.integers(2, 12)), 10
    logits = rng.standard_normal((n_rows, n_models * n_classes)) * 10 ** rng.uniform(-3, 3)
    if seed % 2:
        logits = np.round(logits, 1)  # many ties for the arg-max
    y = rng.integers(0, n_classes, n_rows)
    with np.errstate(over="ignore", invalid="ignore"):
        if seed == 5:
            logits[:, :n_classes] *= 1e308  # one model's logits overflow to ±inf
        sums, hits = softmax_lanes_loss_sums_and_hits(logits.reshape(n_rows, n_models, n_classes), y)
        for m in range(n_models):
            alone_sum, alone_hits = softmax_loss_sum_and_hits(
                np.ascontiguousarray(logits[:, m * n_classes:(m + 1) * n_classes]), y)
            assert np.float64(alone_sum).tobytes() == sums[m].tobytes() and alone_hits == hits[m], m


@pytest.mark.parametrize("seed", range(6))
def test_lanes_loss_and_residual_have_each_models_own_bits(seed):
    """A lock-step step's losses and residuals of L models side by side equal, bit for bit, L calls of
    softmax_loss_and_residual on each model's logits alone, ties and an overflowing model included."""
    from linclass.losses import softmax_lanes_loss_and_residual, softmax_loss_and_residual

    rng = np.random.default_rng(seed)
    n_rows, n_models, n_classes = int(rng.integers(1, 300)), int(rng.integers(2, 12)), 10
    logits = rng.standard_normal((n_rows, n_models * n_classes)) * 10 ** rng.uniform(-3, 3)
    if seed % 2:
        logits = np.round(logits, 1)
    Y = np.eye(n_classes)[rng.integers(0, n_classes, n_rows)]
    out = np.empty((n_rows, n_models, n_classes))
    with np.errstate(over="ignore", invalid="ignore"):
        if seed == 5:
            logits[:, :n_classes] *= 1e307
        losses = softmax_lanes_loss_and_residual(logits.reshape(n_rows, n_models, n_classes), Y, out)
        for m in range(n_models):
            loss, residual = softmax_loss_and_residual(
                np.ascontiguousarray(logits[:, m * n_classes:(m + 1) * n_classes]), Y, np.empty((n_rows, n_classes)))
            assert np.float64(loss).tobytes() == losses[m].tobytes(), m
            assert residual.tobytes() == np.ascontiguousarray(out[:, m]).tobytes(), m
