"""Validation passes: loss and accuracy of several models on the whole training and validation sets.

Rows are multiplied in fixed blocks of VALIDATION_BLOCK_ROWS (one BLAS thread each, possibly on a
thread pool) and reduced to per-model sums right away; the sums are added in block order, so the
results do not depend on the number of threads. Features stored as pixels are converted block by
block into a buffer of the thread that multiplies them; the products keep their shapes, so their bits.
Several models share one product per block where that gives each the bits of its own (wide_products).
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from ..features import row_access
from ..losses import binary_loss_sum_and_hits, softmax_lanes_loss_sums_and_hits, softmax_loss_sum_and_hits
from .history import METRIC_NAMES
from .wide_products import wide_product_is_exact

VALIDATION_BLOCK_ROWS = 2048


class Evaluator:
    """Evaluates weights on X (N, D), y (N,) class indices, and optionally X_val, y_val."""

    def __init__(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None, y_val: np.ndarray | None,
                 binary: bool):
        self.stats = binary_loss_sum_and_hits if binary else softmax_loss_sum_and_hits
        self.binary = binary
        self.sizes = {"train": len(X), "val": 0 if X_val is None else len(X_val)}
        parts = [("train", row_access(X), y)] + ([("val", row_access(X_val), y_val)] if X_val is not None else [])
        # (part, rows, start, stop, labels): blocks of VALIDATION_BLOCK_ROWS rows, in a fixed order
        self.blocks = [(part, rows, a, min(a + VALIDATION_BLOCK_ROWS, len(rows)), labels[a:a + VALIDATION_BLOCK_ROWS])
                       for part, rows, labels in parts for a in range(0, len(rows), VALIDATION_BLOCK_ROWS)]
        self._buffers = threading.local()  # each thread converts its blocks into its own buffer

    def _buffer(self, rows) -> np.ndarray:
        buffer = getattr(self._buffers, "rows", None)
        if buffer is None or buffer.dtype != rows.dtype:
            buffer = self._buffers.rows = rows.buffer(VALIDATION_BLOCK_ROWS)
        return buffer

    def evaluate(self, W_all: np.ndarray, columns: list[slice], map_blocks=map) -> list[dict[str, float]]:
        """The logs {"train_loss", "val_loss", "train_accuracy", "val_accuracy"} of each model, whose
        weights are W_all[:, columns[i]] in W_all (D, models * K); map_blocks runs the blocks (e.g. pool.map)."""
        stats, n_outputs = self.stats, W_all.shape[1] // len(columns)
        # Each model's weights as a contiguous copy, made only if a block cannot share the wide product.
        own = None if len(columns) == 1 else functools.cache(
            lambda: [np.ascontiguousarray(W_all[:, cols]) for cols in columns])
        side_by_side = not self.binary and W_all.shape[1] == len(columns) * n_outputs and all(
            (cols.start, cols.stop, cols.step) == (i * n_outputs, (i + 1) * n_outputs, None)
            for i, cols in enumerate(columns))

        def block_sums(block):
            _, rows, start, stop, y_block = block
            X_block = rows.block(start, stop, self._buffer(rows))
            if own is None or wide_product_is_exact(X_block, n_outputs, len(columns)):
                logits = X_block @ W_all
                if own is not None and side_by_side:  # every model's numbers at once, with their own bits
                    sums, hits = softmax_lanes_loss_sums_and_hits(
                        logits.reshape(len(logits), len(columns), n_outputs), y_block)
                    return list(zip(sums.tolist(), hits.tolist()))
                return [stats(np.ascontiguousarray(logits[:, cols]), y_block) for cols in columns]
            return [stats(X_block @ W, y_block) for W in own()]  # each model's own product (see wide_products)

        sums = list(map_blocks(block_sums, self.blocks))
        all_logs = []
        for i in range(len(columns)):
            totals = {"train": [0.0, 0], "val": [0.0, 0]}
            for (part, *_), block in zip(self.blocks, sums):
                totals[part][0] += block[i][0]
                totals[part][1] += block[i][1]
            logs = {}
            for part in ("train", "val"):
                if self.sizes[part]:
                    logs[f"{part}_loss"] = totals[part][0] / self.sizes[part]
                    logs[f"{part}_accuracy"] = totals[part][1] / self.sizes[part]
            all_logs.append({name: logs[name] for name in METRIC_NAMES if name in logs})
        return all_logs
