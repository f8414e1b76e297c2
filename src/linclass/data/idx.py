"""The IDX file format of MNIST: validate the header against the payload, return uint8 arrays."""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .._io import file_sha256
from ..errors import LinclassError

_IDX_DTYPES = {0x08: np.uint8}


def parse_idx(payload: bytes, source: str = "IDX data") -> np.ndarray:
    """Decode an uncompressed IDX payload into a uint8 array of the shape its header gives."""
    if len(payload) < 4:
        raise LinclassError(f"{source}: too short to be an IDX file ({len(payload)} bytes).")
    zero, dtype_code, ndim = payload[0:2], payload[2], payload[3]
    if zero != b"\x00\x00" or dtype_code not in _IDX_DTYPES or not 1 <= ndim <= 3:
        raise LinclassError(
            f"{source}: bad IDX magic number 0x{payload[:4].hex()} "
            "(expected 0x00000801 or 0x00000803 for unsigned bytes); is this an MNIST file?"
        )
    header_size = 4 + 4 * ndim
    if len(payload) < header_size:
        raise LinclassError(f"{source}: IDX header is truncated ({len(payload)} bytes).")
    shape = struct.unpack(f">{ndim}I", payload[4:header_size])
    expected = header_size + math.prod(shape)  # Python ints: a huge declared shape cannot overflow
    if len(payload) != expected:
        raise LinclassError(
            f"{source}: IDX header declares shape {shape} ({expected} bytes) "
            f"but the payload has {len(payload)} bytes; the file is truncated or damaged."
        )
    try:
        return np.frombuffer(payload, dtype=np.uint8, offset=header_size).reshape(shape)
    except ValueError as exc:  # e.g. (0, 2**31, 2**31): no bytes, yet too large a shape for NumPy
        raise LinclassError(
            f"{source}: IDX header declares an impossible shape {shape}; the file is damaged."
        ) from exc


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed (by its magic bytes) or raw, into a uint8 array."""
    path = Path(path)
    data = read_bytes(path)
    return parse_idx(decompress(data, path), source=str(path))


MAX_RAW_BYTES = 1 << 30  # the largest MNIST-style file is 47 MB; a far larger one is checked by size first


def _check_size(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise LinclassError(f"{path} is {size / 1e9:.1f} GB, far larger than any MNIST or Fashion-MNIST file (the "
                            "largest is 47 MB); replace it with the original file.")


def read_bytes(path: Path, max_bytes: int = MAX_RAW_BYTES) -> bytes:
    """The bytes of a file (refused by its size, before reading, when over max_bytes), or a
    LinclassError saying why it cannot be read."""
    try:
        _check_size(path, max_bytes)
        return path.read_bytes()
    except OSError as exc:
        raise LinclassError(f"cannot read {path}: {exc.strerror}; check the path.") from exc


def file_digest(path: Path, max_bytes: int = MAX_RAW_BYTES) -> str:
    """The SHA-256 of a file without reading it into memory (read_bytes's size check and errors)."""
    try:
        _check_size(path, max_bytes)
        return file_sha256(path, max_bytes)
    except OSError as exc:
        raise LinclassError(f"cannot read {path}: {exc.strerror}; check the path.") from exc


def decompress(data: bytes, path: Path) -> bytes:
    """Gunzip data when it starts with the gzip magic bytes; raw IDX data passes unchanged."""
    if data[:2] != b"\x1f\x8b":
        if path.suffix == ".gz":
            found = f"it starts with 0x{data[:4].hex()}" if data else "it is empty"
            raise LinclassError(f"{path}: not a gzip file ({found}); replace it with the original .gz file.")
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise LinclassError(
            f"{path}: damaged or truncated gzip file ({exc}); delete it and download it again."
        ) from exc
