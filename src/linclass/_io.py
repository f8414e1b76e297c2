"""The one home for writing files safely and reading them back: atomic files and folders, JSON, npz,
and the status.json that marks a folder linclass wrote.

Every file linclass writes goes to a temporary name beside its destination and is renamed into
place only once complete, so a reader (or a crash) sees the old file, the new one, or none.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ._version import __version__
from .errors import LinclassError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb"):
    """Open a temporary file beside path; rename it onto path only if the block succeeds."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path: str | os.PathLike, force: bool = False):
    """Yield a temporary folder beside path; it becomes path only if the block succeeds.

    An existing path is refused unless force, and then replaced only at the very end.
    """
    path = Path(path)
    if path.exists() and not force:
        raise LinclassError(f"{path} already exists; choose another --out or pass --force to replace it.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        os.chmod(tmp, 0o777 & ~_umask())
    except OSError as exc:
        raise LinclassError(f"cannot write to {path.parent}: {exc.strerror}; choose a writable --out.") from exc
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old / "run")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(path: str | os.PathLike, data) -> None:
    """Write data as JSON to path atomically (temporary file, then rename)."""
    with atomic_file(path, "w") as handle:
        json.dump(data, handle, indent=1, allow_nan=False)
        handle.write("\n")


def read_json(path: str | os.PathLike):
    """The JSON value in path; OSError or ValueError when it cannot be read or parsed."""
    return json.loads(Path(path).read_text())


def write_csv(path: str | os.PathLike, columns: list[str], rows: list[dict]) -> None:
    """Write rows (dicts keyed by columns; None is an empty cell) as CSV with a header line, atomically."""
    with atomic_file(path, "w") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({column: "" if row.get(column) is None else row[column] for column in columns}
                         for row in rows)


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write one array as .npy atomically, creating the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as handle:
        np.save(handle, array)


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write named arrays as an uncompressed .npz archive atomically."""
    with atomic_file(path) as handle:
        np.savez(handle, **arrays)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an .npz archive (never unpickled); anything else (a .npy, garbage) raises ValueError."""
    loaded = np.load(path, allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValueError("not an .npz archive")
    with loaded as archive:
        return {name: archive[name] for name in archive.files}


# ---------------------------------------------------------------- status.json
# One schema for run folders (complete, or interrupted with a checkpoint) and reproductions:
#   {"written_by": "linclass", "version": "0.1.0", "kind": "run" | "reproduction" | "sweep",
#    "state": "complete" | "incomplete", ...details}
# details: a complete run has "steps"; an interrupted one "completed_steps" and "resume" (the command
# that continues it); a reproduction or a sweep has "settings" and, while incomplete, "resume".
STATUS_FILE = "status.json"
WRITTEN_BY = "linclass"
STATUS_KINDS = ("run", "reproduction", "sweep")
STATUS_STATES = ("complete", "incomplete")


def write_status(folder: str | os.PathLike, kind: str, state: str, **details) -> None:
    """Write folder/status.json (atomically) with the linclass marker, kind, state and details."""
    if kind not in STATUS_KINDS or state not in STATUS_STATES:
        raise ValueError(f"status kind must be in {STATUS_KINDS} and state in {STATUS_STATES}; got {kind!r}, {state!r}.")
    write_json(Path(folder) / STATUS_FILE,
               {"written_by": WRITTEN_BY, "version": __version__, "kind": kind, "state": state, **details})


def read_status(folder: str | os.PathLike) -> dict | None:
    """folder/status.json as a dict with "kind" and "state", or None when there is no readable one.

    A file from before the marker (no "written_by") still reads: its kind is "reproduction" when it
    holds "settings", else "run"; "written_by" stays absent, so callers can tell the two apart.
    """
    try:
        status = read_json(Path(folder) / STATUS_FILE)
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or status.get("state") not in STATUS_STATES:
        return None
    if "written_by" not in status:
        status["kind"] = "reproduction" if "settings" in status else "run"
    elif status.get("written_by") != WRITTEN_BY or status.get("kind") not in STATUS_KINDS:
        return None
    return status
