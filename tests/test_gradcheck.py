"""The vectorised central differences of our two losses give the one-weight-at-a-time numbers."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from linclass.gradcheck import max_gradient_difference, numerical_gradient
from linclass.gradcheck import _vectorised_gradient as vectorised_gradient
from linclass.losses import logistic_loss_and_grad, softmax_loss_and_grad
from linclass.preprocess import one_hot, preprocess

EPSILON = 1e-3


@pytest.fixture(scope="module")
def images(mnist):
    """The first 20 training images (20, 785) and their labels (20,)."""
    return preprocess(mnist.train_images[:20]), mnist.train_labels[:20].astype(np.int64)


@pytest.mark.parametrize("l2_strength, penalize_bias", [(0.0, True), (0.1, True), (0.1, False)])
def test_softmax_fast_path_equals_the_loop(images, l2_strength, penalize_bias):
    X, y = images
    W = np.random.default_rng(0).normal(scale=0.01, size=(785, 10))
    loss_and_grad = partial(softmax_loss_and_grad, X=X, Y=one_hot(y, 10), l2_strength=l2_strength,
                            penalize_bias=penalize_bias)
    fast = vectorised_gradient(loss_and_grad, W, EPSILON)
    loop = numerical_gradient(lambda w: loss_and_grad(w)[0], W, EPSILON)
    np.testing.assert_allclose(fast, loop, rtol=0, atol=1e-12)


@pytest.mark.parametrize("l2_strength, penalize_bias", [(0.0, True), (0.1, True), (0.1, False)])
def test_logistic_fast_path_equals_the_loop(images, l2_strength, penalize_bias):
    X, y = images
    W = np.random.default_rng(1).normal(scale=0.01, size=(785, 1))
    loss_and_grad = partial(logistic_loss_and_grad, X=X, y=(y % 2), l2_strength=l2_strength,
                            penalize_bias=penalize_bias)
    fast = vectorised_gradient(loss_and_grad, W, EPSILON)
    loop = numerical_gradient(lambda w: loss_and_grad(w)[0], W, EPSILON)
    np.testing.assert_allclose(fast, loop, rtol=0, atol=1e-12)


def test_other_functions_take_the_general_path():
    W = np.arange(6.0).reshape(3, 2)
    X, Y = np.eye(3), one_hot(np.array([0, 1, 0]), 2)
    assert vectorised_gradient(lambda w: softmax_loss_and_grad(w, X, Y), W, EPSILON) is None
    assert vectorised_gradient(partial(softmax_loss_and_grad, W), W, EPSILON) is None  # positional arguments
    quadratic = (lambda w: (float(np.sum(w ** 2)), 2 * w))
    assert max_gradient_difference(quadratic, W, EPSILON) < 1e-9


def test_fast_path_still_catches_a_wrong_gradient(images):
    X, y = images
    W = np.random.default_rng(2).normal(scale=0.01, size=(785, 10))
    right = partial(softmax_loss_and_grad, X=X, Y=one_hot(y, 10), l2_strength=0.1)
    assert max_gradient_difference(right, W, EPSILON) < EPSILON ** 2

    def half_gradient(w):
        loss, grad = right(w)
        return loss, grad / 2
    assert max_gradient_difference(half_gradient, W, EPSILON) > EPSILON ** 2


def _square(w):
    return float(np.sum(w * w))


@pytest.mark.parametrize("call, message", [
    (lambda W: numerical_gradient(_square, W, epsilon=0), "epsilon must be a finite number > 0; got 0"),
    (lambda W: numerical_gradient(lambda w: w, W), "loss must return one real number (the loss); got ndarray"),
    (lambda W: numerical_gradient(lambda w: None, W), "loss must return one real number (the loss); got NoneType"),
    (lambda W: max_gradient_difference(lambda w: _square(w), W), "must return a pair (loss, gradient); got float"),
    (lambda W: max_gradient_difference(lambda w: (_square(w), (2 * w).ravel()), W),
     "gradient must be a real array of W's shape (5, 1); got float64 (5,)"),
    (lambda W: max_gradient_difference(lambda w: (_square(w), np.ones((1, 1))), W), "W's shape (5, 1)"),
    (lambda W: max_gradient_difference(lambda w: (w, 2 * w), W), "must return one real number"),
])
def test_a_loss_of_the_wrong_form_is_refused_in_one_line(call, message):
    """Without these checks, some of these calls broadcast a (5,) or (1, 1) gradient against (5, 1) weights
    and return a meaningless difference, and the others fail inside NumPy."""
    with pytest.raises(ValueError) as error:
        call(np.linspace(-1, 1, 5).reshape(5, 1))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_scalar_array_loss_is_one_number():
    W = np.linspace(-1, 1, 6).reshape(3, 2)
    np.testing.assert_allclose(numerical_gradient(lambda w: np.asarray(_square(w)), W), 2 * W, atol=1e-9)
    assert max_gradient_difference(lambda w: (np.float32(_square(w)), 2 * w), W) < 1e-3  # float32 rounding
