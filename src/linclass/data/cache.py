"""Verify one raw dataset file by SHA-256 and decode it once: decoded arrays are cached as .npy files
named by the verified hash and the CRC-32 of their bytes, so a second load hashes the source, maps
the array read-only from the file and checks its CRC-32 (SHA-256 of 47 MB would cost ~35 ms, CRC-32
~11 ms).

A .gz whose bytes are not fixed (gz_sha256 None: Fashion-MNIST's copies are re-compressed) is
verified by the SHA-256 of its payload; the cache then remembers that this .gz SHA-256 holds the
right payload (verified/<.gz SHA-256>.json), so a later load hashes only the .gz."""

from __future__ import annotations

import contextlib
import hashlib
import math
import mmap
import os
import zlib
from pathlib import Path

import numpy as np

from .._io import read_json, save_npy, write_json
from ..errors import LinclassError
from .idx import decompress, file_digest, parse_idx, read_bytes
from .sources import DataFile, known_file


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mismatch(path: Path, expected: str, found: str, what: str = "") -> LinclassError:
    """The one message for a file whose bytes (or, with what, whose decompressed payload) are not the published
    ones; when they are another known file's (the other dataset's, or a sibling's), it says which."""
    wanted, instead = known_file(expected), known_file(found) or _known_payload(path)
    if wanted is not None and instead is not None:
        (source, spec), (other, other_spec) = wanted, instead
        if other is not source:
            return LinclassError(
                f"{path} is {other.title}'s {other_spec.name}, not {source.title}'s: this folder holds "
                f"{other.title}; use --dataset {other.name} for it, or give {source.title}'s folder (--data-dir or "
                f"${source.env_var}).")
        return LinclassError(f"{path} holds {other_spec.name}, not {spec.name}: the files were renamed or swapped; "
                             "give each its original name.")
    of = f" of {what}" if what else ""
    return LinclassError(
        f"{path}: SHA-256 mismatch{of} (expected {expected}, found {found}); the file is damaged or not "
        "the original: replace it with the original, or delete it and run without --data-dir to download it "
        "into the cache.")


def _known_payload(path: Path):
    """known_file of a .gz's decompressed payload (a re-compressed copy of another dataset's file), or None;
    only on the way to an error, so the cost of decompressing does not matter."""
    if path.suffix != ".gz":
        return None
    with contextlib.suppress(OSError, ValueError, LinclassError, EOFError, zlib.error):
        return known_file(sha256_of(decompress(read_bytes(path), path)))
    return None


def _published_sha256(path: Path, spec: DataFile) -> str:
    """The SHA-256 a file with fixed bytes must have: the published .gz's, or the raw payload's."""
    return spec.gz_sha256 if path.suffix == ".gz" else spec.raw_sha256


def _verified_bytes(path: Path, spec: DataFile) -> bytes:
    data = read_bytes(path)
    expected = _published_sha256(path, spec)
    found = sha256_of(data)
    if found != expected:
        raise _mismatch(path, expected, found)
    return data


def _vouched_by_hash(path: Path, spec: DataFile, verified_dir: Path) -> bool:
    """Whether the source file is verified by hashing it in place (no copy): its SHA-256 is the published
    one, or, for a re-compressed .gz, the cache remembers that these bytes hold the right payload."""
    found = file_digest(path)
    if spec.gz_sha256 is not None or path.suffix != ".gz":
        expected = _published_sha256(path, spec)
        if found != expected:
            raise _mismatch(path, expected, found)
        return True
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        return read_json(verified_dir / f"{found}.json").get("payload_sha256") == spec.raw_sha256
    return False


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
        raise _mismatch(path, spec.raw_sha256, found, what="the decompressed payload")
    if marker is not None:
        with contextlib.suppress(OSError, LinclassError):  # an unwritable cache only costs speed
            marker.parent.mkdir(parents=True, exist_ok=True)
            write_json(marker, {"file": spec.name, "payload_sha256": found})
    return payload


def _load_cached(path: Path, spec: DataFile) -> np.ndarray | None:
    """The array in a cache file named ...-crc<8 hex>.npy (read-only, mapped from the file), or None if it
    is damaged in any way.

    Mapped, not read into new memory: the page cache's pages are used as they are. Fresh anonymous
    memory is slow to fault in on a VM that hands idle memory back to its host (a 47 MB read took
    62-138 ms after a few idle seconds against 13-19 ms mapped; README.md, Performance). Cache files are
    only ever replaced by rename, never rewritten in place, so the mapped bytes cannot change."""
    try:
        expected_crc = int(path.stem.rsplit("-crc", 1)[1], 16)
        with open(path, "rb") as handle:
            # The header first, so a damaged one cannot make us map a wrong shape.
            version = np.lib.format.read_magic(handle)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran_order, dtype = read_header(handle)
            if shape != spec.shape or dtype != np.uint8 or fortran_order:
                return None
            offset, size = handle.tell(), math.prod(shape)
            if os.fstat(handle.fileno()).st_size != offset + size:
                return None
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, EOFError, OverflowError, IndexError):
        return None
    array = np.frombuffer(mapped, dtype=np.uint8, count=size, offset=offset).reshape(shape)
    if zlib.crc32(array) == expected_crc:
        # The check mapped every page; unmap them again (they stay in the page cache), so that this
        # process holds only the pages it goes on to read (a split reads 30,000 of the 70,000 images).
        with contextlib.suppress(OSError, AttributeError):
            mapped.madvise(mmap.MADV_DONTNEED)
        return array
    del array
    mapped.close()  # before the caller deletes the damaged file
    return None


def load_file(path: Path, spec: DataFile, cache_dir: Path | None, decoded_subdir: str = "decoded") -> np.ndarray:
    """One verified dataset file as a uint8 array, decoded once and then read from the cache."""
    decoded_dir = cache_dir / decoded_subdir if cache_dir else None
    verified_dir = decoded_dir.parent / "verified" if decoded_dir else None
    recompressed = path.suffix == ".gz" and spec.gz_sha256 is None
    # The decoded array is named by the hash of what was verified: a re-compressed .gz by its payload.
    digest = spec.raw_sha256 if recompressed else _published_sha256(path, spec)
    prefix = f"{spec.name}-{digest[:16]}"
    candidates = sorted(decoded_dir.glob(f"{prefix}-crc*.npy")) if decoded_dir is not None else []
    if candidates and _vouched_by_hash(path, spec, verified_dir):
        for candidate in candidates:
            array = _load_cached(candidate, spec)
            if array is not None:
                return array
            with contextlib.suppress(OSError):
                candidate.unlink()  # damaged: never trusted, rewritten below
    if recompressed:
        data = read_bytes(path)
        payload = _verified_payload(path, data, spec, verified_dir)
    else:
        data, payload = _verified_bytes(path, spec), None
    array = parse_idx(payload if payload is not None else decompress(data, path), source=str(path))
    check_shape(array, spec, path)
    if decoded_dir is not None:
        # An unwritable cache (a full disk, a folder where the file goes) only costs speed; _io reports OS
        # errors as LinclassError. The file of the format before the CRC-32 is removed.
        with contextlib.suppress(OSError, LinclassError):
            save_npy(decoded_dir / f"{prefix}-crc{zlib.crc32(array):08x}.npy", array)
            (decoded_dir / f"{prefix}.npy").unlink(missing_ok=True)
    return array


def check_shape(array: np.ndarray, spec: DataFile, path: Path) -> None:
    """Raise a clear LinclassError unless the decoded array has the shape the spec expects."""
    if array.shape == spec.shape:
        return
    expected = (f"{spec.shape[0]} images of {spec.shape[1]}x{spec.shape[2]} pixels {spec.shape}"
                if len(spec.shape) == 3 else f"{spec.shape[0]} labels {spec.shape}")
    raise LinclassError(f"{path} holds a {array.ndim}-D array of shape {array.shape}, but {spec.name} "
                        f"must hold {expected}; is it the right file?")
