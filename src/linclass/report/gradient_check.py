"""Task 1: the analytic gradients of both models against central differences on real images."""

from __future__ import annotations

import sys
import time
from functools import partial

import numpy as np
from threadpoolctl import threadpool_limits

from ..data import load_dataset
from ..gradcheck import max_gradient_difference
from ..losses import logistic_loss_and_grad, softmax_loss_and_grad
from ..preprocess import binary_split, one_hot, ten_class_split
from .plan import BLAS_THREADS

GRADCHECK = {"epsilon": 1e-3, "l2_strength": 0.1, "n_images": 20, "weight_scale": 0.01}


def check_gradients(data_dir: str | None = None, *, seed: int = 0, position: str = "",
                    progress: bool = False, dataset: str = "mnist", classes: tuple[int, int] | None = None) -> dict:
    """Task 1: largest |analytic - central difference| gradient entry of both models on real images.

    Uses the first n_images training images of each model's split in float64, weights drawn from
    N(0, weight_scale^2) by default_rng(seed), with l2_strength 0 and GRADCHECK['l2_strength'].
    """
    say(progress, f"[{position}] task 1 gradient check: started")
    started = time.perf_counter()
    epsilon, l2, n = GRADCHECK["epsilon"], GRADCHECK["l2_strength"], GRADCHECK["n_images"]
    data = load_dataset(dataset, data_dir)
    binary = binary_split(data, classes, n_train=5 * n, n_val=5 * n)  # about a fifth of the images are of the pair
    ten = ten_class_split(data, n_train=n, n_val=1)
    X_binary, y_binary = np.asarray(binary.X_train[:n]), binary.y_train[:n]
    X_ten, Y_ten = np.asarray(ten.X_train[:n]), one_hot(ten.y_train[:n], 10)
    rng = np.random.default_rng(seed)
    W_binary = rng.normal(scale=GRADCHECK["weight_scale"], size=(X_binary.shape[1], 1))
    W_ten = rng.normal(scale=GRADCHECK["weight_scale"], size=(X_ten.shape[1], 10))
    result = {}
    with threadpool_limits(limits=BLAS_THREADS):
        for name, loss_and_grad, W, X, T in (("logistic", logistic_loss_and_grad, W_binary, X_binary, y_binary),
                                             ("softmax", softmax_loss_and_grad, W_ten, X_ten, Y_ten)):
            targets = {"Y" if name == "softmax" else "y": T}
            # partial, not a lambda: max_gradient_difference recognises our losses and vectorises them
            plain = max_gradient_difference(partial(loss_and_grad, X=X, **targets, l2_strength=0.0), W, epsilon)
            with_l2 = max_gradient_difference(partial(loss_and_grad, X=X, **targets, l2_strength=l2), W, epsilon)
            result[name] = {"max_abs_diff": plain, "l2_max_abs_diff": with_l2, "n_weights": W.size,
                            "n_images_checked": len(X),
                            "passed": bool(max(plain, with_l2) < epsilon**2)}
    result.update({**GRADCHECK, "threshold": epsilon**2, "dtype": "float64", "split": "training",
                   "n_pair_candidate_images": 5 * n})
    seconds = time.perf_counter() - started
    say(progress, f"[{position}] task 1 gradient check: done in {seconds:.1f} s")
    return {"task1": result, "wall_seconds": seconds}


def say(progress: bool, message: str) -> None:
    """One progress line on stderr, when progress is on."""
    if progress:
        print(message, file=sys.stderr, flush=True)
