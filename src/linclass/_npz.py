"""Reading .npz archives as untrusted input: entries by name, each .npy header checked before a
single byte of its data is allocated, never unpickled, never inflating entries nobody asked for.

An archive declaring an entry of shape (10**10, 10) is refused from its header (no MemoryError);
an unused 1 GB entry beside the weights is never read.
"""

from __future__ import annotations

import math
import os
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from .errors import LinclassError

MAX_ENTRY_BYTES = 256 << 20  # the largest array linclass writes is a few MB


class Spec:
    """What an entry must be: a dtype (one or several) and a shape; None in the shape allows any length."""

    def __init__(self, dtypes, shape: tuple):
        self.dtypes = tuple(np.dtype(d) for d in (dtypes if isinstance(dtypes, (list, tuple)) else [dtypes]))
        self.shape = tuple(shape)

    def problem(self, dtype: np.dtype, shape: tuple) -> str | None:
        if dtype not in self.dtypes:
            return f"dtype {dtype}, expected {' or '.join(str(d) for d in self.dtypes)}"
        if len(shape) != len(self.shape) or any(e is not None and e != n for e, n in zip(self.shape, shape)):
            return f"shape {shape}, expected {tuple('N' if e is None else e for e in self.shape)}"
        return None


def _header(handle) -> tuple[tuple, bool, np.dtype]:
    version = npy_format.read_magic(handle)
    if version == (1, 0):
        return npy_format.read_array_header_1_0(handle)
    if version == (2, 0):
        return npy_format.read_array_header_2_0(handle)
    raise ValueError(f"unsupported .npy version {version}")


def _read_checked(handle, spec: Spec | None, max_bytes: int) -> np.ndarray:
    """The array of one .npy stream, its header checked before its data is read; ValueError says what is wrong."""
    try:
        shape, fortran, dtype = _header(handle)
    except (SyntaxError, tokenize.TokenError, TypeError) as exc:  # a header numpy cannot parse
        raise ValueError(f"a damaged .npy header ({exc})") from None
    if dtype.hasobject:
        raise ValueError("Python objects, which are never unpickled")
    if spec is not None and (problem := spec.problem(dtype, shape)) is not None:
        raise ValueError(problem)
    size = math.prod(shape) * dtype.itemsize  # Python ints: a huge shape cannot overflow
    if size > max_bytes:
        raise ValueError(f"a declared size of {size} bytes (shape {shape}), more than the {max_bytes} allowed")
    data = handle.read(size)
    if len(data) != size or handle.read(1):  # reading to the end also checks a zip entry's CRC-32
        raise ValueError(f"{len(data)} bytes of data where its header declares {size}")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return array.copy()  # writable, and owning its memory


def _read_entry(archive: zipfile.ZipFile, name: str, spec: Spec | None, max_bytes: int) -> np.ndarray:
    with archive.open(name + ".npy") as handle:
        return _read_checked(handle, spec, max_bytes)


def read_npy(path: str | os.PathLike, max_bytes: int = MAX_ENTRY_BYTES) -> np.ndarray:
    """A .npy file read as untrusted input (its header checked before its data is allocated, never
    unpickled); ValueError or OSError says what is wrong."""
    with open(path, "rb") as handle:
        return _read_checked(handle, None, max_bytes)


def read_npz(path: str | os.PathLike, specs: dict[str, Spec | None] | None = None, *,
             optional: tuple[str, ...] = (), max_bytes: int = MAX_ENTRY_BYTES) -> dict[str, np.ndarray]:
    """The entries of an .npz archive named in specs (all when None), each checked against its Spec
    from its header before reading; entries in `optional` may be missing. Raises LinclassError
    naming the file and the entry for anything else: not an archive, missing or malformed entries."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            present = {n[:-4] for n in archive.namelist() if n.endswith(".npy")}
            wanted = present if specs is None else set(specs)
            missing = sorted(wanted - present - set(optional))
            if missing:
                raise LinclassError(f"{path} is damaged: it lacks the entr{'y' if len(missing) == 1 else 'ies'} "
                                    f"{', '.join(missing)}.")
            arrays = {}
            for name in sorted(wanted & present):
                try:
                    arrays[name] = _read_entry(archive, name, (specs or {}).get(name), max_bytes)
                except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error, NotImplementedError,
                        SyntaxError, OverflowError, MemoryError) as exc:
                    raise LinclassError(f"{path} is damaged: its entry {name!r} has {exc}.") from None
            return arrays
    except LinclassError:
        raise
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, zlib.error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise LinclassError(f"{path} is damaged: not a readable .npz archive ({reason}).") from None


def pack_npz(handle, arrays: dict[str, np.ndarray], extra: dict[str, bytes] | None = None) -> None:
    """Write arrays (as NAME.npy) and extra raw members into one uncompressed zip, on an open handle."""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                npy_format.write_array(member, np.asarray(array), allow_pickle=False)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)


def read_member(path: str | os.PathLike, name: str, max_bytes: int) -> bytes:
    """One raw member of a zip file, refused (before reading) when it declares more than max_bytes."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(name)
            if info.file_size > max_bytes:
                raise LinclassError(f"{path}: {name} declares {info.file_size} bytes, more than {max_bytes}.")
            with archive.open(info) as handle:
                data = handle.read(max_bytes + 1)
    except LinclassError:
        raise
    except KeyError:
        raise LinclassError(f"{path} lacks {name}; it is damaged or not a linclass checkpoint.") from None
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, zlib.error) as exc:
        raise LinclassError(f"{path} is not a readable archive ({exc}).") from None
    if len(data) > max_bytes:
        raise LinclassError(f"{path}: {name} holds more than {max_bytes} bytes.")
    return data
