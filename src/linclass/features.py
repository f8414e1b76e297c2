"""Features kept as pixels: an (N, 785) matrix of pixel / 127.5 - 1 and a bias 1, stored as uint8 and
converted to floats only where rows are used (a batch, a validation block); only features small
enough (CONVERT_ONCE_BYTES) are converted as a whole, once, when training starts.

The conversion looks each pair of pixels up in a table of the 65,536 pairs of values, computed
with the formula of preprocess() (divide by 127.5, then subtract 1, in the working dtype), so
every converted row is bit for bit the row a float copy would hold. Rows are stored 786 bytes
wide (784 pixels, the bias slot, one pad byte) so that a row is 393 whole pairs.
"""

from __future__ import annotations

import functools

import numpy as np

N_PIXELS = 28 * 28
STORED = N_PIXELS + 2  # 784 pixels, the bias slot and a pad byte: 393 pairs per row
# Rows per product block outside training. BLAS's small-matrix kernels (OpenBLAS on SkylakeX below
# roughly 512 rows for 10 columns) sum in another order; blocks this tall take the same path as one
# product over all rows, so each row's bits are the same.
PRODUCT_ROWS = 2048


def scale_pixels(values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = values / 127.5 - 1 in out's dtype: the one formula every feature value comes from."""
    dtype = out.dtype.type
    np.divide(values, dtype(127.5), out=out, dtype=dtype)
    out -= dtype(1.0)
    return out


@functools.cache
def _pair_table(dtype: type) -> np.ndarray:
    """(65536, 2): the scaled values of the two pixels packed in each uint16 code (native byte order)."""
    single = scale_pixels(np.arange(256, dtype=np.uint8), np.empty(256, dtype=dtype))
    pairs = np.arange(65536, dtype=np.uint16).view(np.uint8).reshape(-1, 2)
    table = single[pairs]
    table.flags.writeable = False
    return table


def row_buffer(n_rows: int, dtype) -> np.ndarray:
    """A (n_rows, 786) float buffer to convert rows into; the first 785 columns are the features."""
    return np.empty((n_rows, STORED), dtype=dtype)


class PixelFeatures:
    """Read-only (N, 785) features of uint8 pixels (N, 786): x = pixel / 127.5 - 1, then a bias 1.

    Row slices are views (X[a:b]); any other use (np.asarray(X), X[:, :-1], X @ W) converts the
    rows it needs, with the same values as preprocess() would give.
    """

    ndim = 2

    def __init__(self, pixels: np.ndarray, dtype=np.float64):
        if pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] != STORED:
            raise ValueError(f"pixels must be a uint8 (N, {STORED}) array; got {pixels.dtype} {pixels.shape}.")
        self.pixels, self.dtype = pixels, np.dtype(dtype)
        self.shape = (len(pixels), N_PIXELS + 1)
        self._codes = pixels.view(np.uint16)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"PixelFeatures({self.shape[0]} x {self.shape[1]}, {self.dtype}, stored as uint8)"

    @property
    def nbytes(self) -> int:
        return self.pixels.nbytes

    def buffer(self, n_rows: int) -> np.ndarray:
        """A buffer for n_rows converted rows (see row_buffer)."""
        return row_buffer(n_rows, self.dtype)

    def rows_into(self, codes: np.ndarray, out: np.ndarray, chunk: int = 64) -> np.ndarray:
        """Convert rows given by their (B, 393) uint16 codes into out (>= B, 786); returns out[:B, :785]."""
        n = len(codes)
        table, index = _pair_table(self.dtype.type), np.empty((min(chunk, n), STORED // 2), dtype=np.intp)
        pairs = out[:n].reshape(n, STORED // 2, 2)
        for start in range(0, n, chunk):  # small pieces keep the index and the output in cache
            stop = min(start + chunk, n)
            np.copyto(index[:stop - start], codes[start:stop], casting="unsafe")
            np.take(table, index[:stop - start], axis=0, out=pairs[start:stop], mode="wrap")
        out[:n, N_PIXELS] = 1.0
        return out[:n, :N_PIXELS + 1]

    def take_rows(self, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The rows at int indices rows (B,), converted into out (>= B, 786); returns (B, 785)."""
        return self.rows_into(self._codes[rows], out)

    def block(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        """Rows start:stop converted into out (>= stop - start, 786); returns (stop - start, 785)."""
        return self.rows_into(self._codes[start:stop], out)

    def converted(self, chunk_rows: int = 256) -> np.ndarray:
        """All rows converted at once, (N, 785) C-contiguous, through a small buffer of chunk_rows rows."""
        out = np.empty(self.shape, dtype=self.dtype)
        buffer = self.buffer(min(chunk_rows, len(self)))
        for start in range(0, len(self), chunk_rows):
            stop = min(start + chunk_rows, len(self))
            out[start:stop] = self.block(start, stop, buffer)
        return out

    def __array__(self, dtype=None, copy=None):
        out = self.converted()
        return out if dtype is None else out.astype(dtype, copy=False)

    def tobytes(self) -> bytes:
        """The bytes of the float features, as np.asarray(X).tobytes()."""
        return np.asarray(self).tobytes()

    @property
    def T(self) -> np.ndarray:
        return np.asarray(self).T

    def __matmul__(self, other):
        """X @ W (N, K), in row blocks of at least PRODUCT_ROWS // 2 rows (fewer only when N is smaller):
        each row of the product comes out as in one product over all rows, without a float copy of X."""
        other = np.asarray(other)
        if len(self) < PRODUCT_ROWS or other.ndim != 2 or other.shape[1] < 2:  # (N, 1): a matrix-vector product
            return np.asarray(self) @ other
        n_blocks = len(self) // PRODUCT_ROWS  # equal blocks, so the last one is never a thin product
        bounds = np.linspace(0, len(self), n_blocks + 1).astype(int)
        buffer = self.buffer(int(np.diff(bounds).max()))
        out = np.empty((len(self), other.shape[1]), dtype=np.result_type(self.dtype, other.dtype))
        for start, stop in zip(bounds[:-1], bounds[1:]):
            np.matmul(self.block(start, stop, buffer), other, out=out[start:stop])
        return out

    def __getitem__(self, key):
        if isinstance(key, slice) and key.step in (None, 1):
            return PixelFeatures(self.pixels[key], self.dtype)
        if isinstance(key, np.ndarray) and key.ndim == 1 and key.dtype.kind in "iu":
            return self.take_rows(key, row_buffer(len(key), self.dtype)).copy()
        return np.asarray(self)[key]


class DenseRows:
    """The same row access on a float (N, D) array that is already in memory (no conversion)."""

    def __init__(self, X: np.ndarray):
        self.X, self.dtype, self.shape = X, X.dtype, X.shape

    def __len__(self) -> int:
        return len(self.X)

    def buffer(self, n_rows: int) -> np.ndarray:
        return np.empty((n_rows, self.shape[1]), dtype=self.dtype)

    def take_rows(self, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.take(self.X, rows, axis=0, out=out[:len(rows)])

    def block(self, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        return self.X[start:stop]


# Features whose float copies (training and validation rows together) take at most this many bytes
# are converted once, when training starts: the two-class split (6,047 rows, 38 MB in float64), whose
# validation passes would otherwise spend about two thirds of their time converting rows. Larger
# features (the ten-class split: 188 MB) stay bytes and are converted block by block.
CONVERT_ONCE_BYTES = 64 << 20


def converted_if_small(X, X_val=None) -> tuple:
    """(X, X_val) as float arrays (N, 785) when they are PixelFeatures whose float copies together take
    at most CONVERT_ONCE_BYTES (the same values, converted once: PixelFeatures.converted), else as they are."""
    parts = [part for part in (X, X_val) if part is not None]
    if not all(isinstance(part, PixelFeatures) for part in parts):
        return X, X_val
    if sum(len(part) * part.shape[1] * part.dtype.itemsize for part in parts) > CONVERT_ONCE_BYTES:
        return X, X_val
    return tuple(None if part is None else part.converted() for part in (X, X_val))


def row_access(X) -> "PixelFeatures | DenseRows":
    """How the trainer reads rows of X: converted from pixels, or straight from a float array."""
    return X if isinstance(X, PixelFeatures) else DenseRows(X)
