"""Whether one wide product may serve a lock-step group.

M models trained together share a product A @ [W_1 ... W_M] (A: (rows, D), each W_m: (D, K)) only
if every model's K columns come out with the bits of A @ W_m computed alone. A BLAS does not promise
that: for some shapes it picks another kernel, or another order of additions, for the wide product
(OpenBLAS: small-matrix kernels, matrix-vector routines for K = 1, architecture-specific kernels).
So each layout of A is tried once, on random right-hand sides, and the answer is kept.
"""

from __future__ import annotations

import threading

import numpy as np

_verdicts: dict[tuple, bool] = {}
_lock = threading.Lock()


def wide_product_is_exact(left: np.ndarray, n_outputs: int, n_models: int) -> bool:
    """True when left (rows, D) @ R (D, M * K) gives every model's columns R[:, m*K:(m+1)*K] the bits of
    left @ (those columns, contiguous). left is the real operand (any strides: a transposed view for
    the gradient X^T @ residual); the verdict is kept per shape, strides and dtype."""
    if n_models == 1:
        return True
    key = (left.shape, left.strides, left.dtype.str, n_outputs, n_models)
    verdict = _verdicts.get(key)
    if verdict is None:
        verdict = _try(left, n_outputs, n_models)
        with _lock:
            _verdicts[key] = verdict
    return verdict


def _try(left: np.ndarray, n_outputs: int, n_models: int) -> bool:
    rng = np.random.default_rng(0)
    right = rng.standard_normal((left.shape[1], n_outputs * n_models)).astype(left.dtype)
    wide = left @ right
    for m in range(n_models):
        columns = slice(m * n_outputs, (m + 1) * n_outputs)
        if not np.array_equal(wide[:, columns], left @ np.ascontiguousarray(right[:, columns])):
            return False
    return True
