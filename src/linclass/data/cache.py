"""Verify one raw dataset file by SHA-256 and decode it once: decoded arrays are cached as .npy files
named by the verified hash and the CRC-32 of their bytes, so a second load hashes the source, reads
the array and checks its CRC-32 (SHA-256 of 47 MB would cost ~35 ms, CRC-32 ~11 ms).

A .gz whose bytes are not fixed (gz_sha256 None: Fashion-MNIST's copies are re-compressed) is
verified by the SHA-256 of its payload; the cache then remembers that this .gz SHA-256 holds the
right payload (verified/<.gz SHA-256>.json), so a later load hashes only the .gz."""

from __future__ import annotations

import contextlib
import hashlib
import zlib
from pathlib import Path

import numpy as np

from .._io import read_json, save_npy, write_json
from ..errors import LinclassError
from .idx import decompress, parse_idx, read_bytes
from .sources import DataFile


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mismatch(path: Path, what: str, expected: str, found: str) -> LinclassError:
    return LinclassError(
        f"{path}: SHA-256 mismatch of {what} (expected {expected}, found {found}); the file is damaged or not "
        "the original: replace it with the original, or delete it and run without --data-dir to download it "
        "into the cache.")


def _verified_bytes(path: Path, spec: DataFile) -> tuple[bytes, str]:
    data = read_bytes(path)
    expected = spec.gz_sha256 if path.suffix == ".gz" else spec.raw_sha256
    found = sha256_of(data)
    if found != expected:
        raise LinclassError(
            f"{path}: SHA-256 mismatch (expected {expected}, found {found}); "
            "the file is damaged or not the original MNIST file: replace it with the original, or delete "
            "it and run without --data-dir to download MNIST into the cache."
        )
    return data, found


def _verified_payload(path: Path, data: bytes, spec: DataFile, verified_dir: Path | None) -> bytes | None:
    """Check a re-compressed .gz by its payload; None when the cache already vouches for these bytes."""
    marker = verified_dir / f"{sha256_of(data)}.json" if verified_dir is not None else None
    if marker is not None:
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            if read_json(marker).get("payload_sha256") == spec.raw_sha256:
                return None
    payload = decompress(data, path)
    found = sha256_of(payload)
    if found != spec.raw_sha256:
        raise _mismatch(path, "the decompressed payload", spec.raw_sha256, found)
    if marker is not None:
        with contextlib.suppress(OSError):  # an unwritable cache only costs speed
            marker.parent.mkdir(parents=True, exist_ok=True)
            write_json(marker, {"file": spec.name, "payload_sha256": found})
    return payload


def _load_cached(path: Path, spec: DataFile) -> np.ndarray | None:
    """The array in a cache file named ...-crc<8 hex>.npy, or None if it is damaged in any way."""
    try:
        expected_crc = int(path.stem.rsplit("-crc", 1)[1], 16)
        with open(path, "rb") as handle:
            # The header first, so a damaged one cannot make us allocate a huge array; then the bytes
            # straight into the array (no memory map, whose pages would double the peak memory).
            version = np.lib.format.read_magic(handle)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran_order, dtype = read_header(handle)
            if shape != spec.shape or dtype != np.uint8 or fortran_order:
                return None
            array = np.empty(shape, dtype=np.uint8)
            if handle.readinto(memoryview(array).cast("B")) != array.nbytes or handle.read(1):
                return None
    except (OSError, ValueError, EOFError, OverflowError, IndexError):
        return None
    return array if zlib.crc32(array) == expected_crc else None


def load_file(path: Path, spec: DataFile, cache_dir: Path | None, decoded_subdir: str = "decoded") -> np.ndarray:
    """One verified dataset file as a uint8 array, decoded once and then read from the cache."""
    base = cache_dir / decoded_subdir if cache_dir else None
    payload = None
    if path.suffix == ".gz" and spec.gz_sha256 is None:
        data = read_bytes(path)
        payload = _verified_payload(path, data, spec, base.parent / "verified" if base else None)
        digest = spec.raw_sha256  # the decoded array is named by its payload, whatever the compression
    else:
        data, digest = _verified_bytes(path, spec)
    decoded_dir = base
    prefix = f"{spec.name}-{digest[:16]}"
    if decoded_dir is not None:
        for candidate in sorted(decoded_dir.glob(f"{prefix}-crc*.npy")):
            array = _load_cached(candidate, spec)
            if array is not None:
                return array
            with contextlib.suppress(OSError):
                candidate.unlink()  # damaged: never trusted, rewritten below
    array = parse_idx(payload if payload is not None else decompress(data, path), source=str(path))
    check_shape(array, spec, path)
    if decoded_dir is not None:
        with contextlib.suppress(OSError):  # an unwritable cache only costs speed
            save_npy(decoded_dir / f"{prefix}-crc{zlib.crc32(array):08x}.npy", array)
            (decoded_dir / f"{prefix}.npy").unlink(missing_ok=True)  # the format before the CRC-32
    return array


def check_shape(array: np.ndarray, spec: DataFile, path: Path) -> None:
    """Raise a clear LinclassError unless the decoded array has the shape the spec expects."""
    if array.shape == spec.shape:
        return
    expected = (f"{spec.shape[0]} images of {spec.shape[1]}x{spec.shape[2]} pixels {spec.shape}"
                if len(spec.shape) == 3 else f"{spec.shape[0]} labels {spec.shape}")
    raise LinclassError(f"{path} holds a {array.ndim}-D array of shape {array.shape}, but {spec.name} "
                        f"must hold {expected}; is it the right file?")
