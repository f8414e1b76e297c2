"""preprocess at the public boundary: one image, no images, and pixels already scaled to [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest

from linclass import LinclassError, preprocess


def test_one_image_is_a_batch_of_one(mnist):
    one = preprocess(mnist.test_images[0])
    assert one.shape == (1, 785)
    np.testing.assert_array_equal(one, preprocess(mnist.test_images[:1]))
    assert one[0, -1] == 1.0 and one.min() >= -1.0 and one.max() <= 1.0


@pytest.mark.parametrize("images, message", [
    (np.zeros((0, 28, 28), np.uint8), r"non-empty \(N, 28, 28\)"),
    (np.full((2, 28, 28), 0.5), r"already scaled to \[0, 1\].*multiply by 255"),
    (np.full((2, 28, 28), 300.0), r"pixels in \[0, 255\]; got values from 300 to 300"),
    (np.full((2, 28, 28), np.nan), "NaN or infinity"),
    (np.zeros((2, 20, 20), np.uint8), r"each image has 400 pixels \(shape \(20, 20\)\); expected 784"),
    (np.array(["a"] * 784).reshape(28, 28), "numeric"),
])
def test_bad_images_are_refused_in_one_line(images, message):
    with pytest.raises(LinclassError, match=message):
        preprocess(images)


def test_float_pixels_in_0_255_are_accepted_like_bytes(mnist):
    images = mnist.test_images[:5]
    np.testing.assert_array_equal(preprocess(images.astype(np.float64)), preprocess(images))
