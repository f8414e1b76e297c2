"""The one home for writing files safely and reading them back: atomic files and folders (_atomic.py),
JSON, npz (read back by _npz.py, entry by entry, each header checked before allocating), the SHA-256
of files, and the status.json that marks a folder linclass wrote (and vouches for its files).

Every file linclass writes goes to a temporary name beside its destination and is renamed into
place only once complete, so a reader (or a crash) sees the old file, the new one, or none.
"""

from __future__ import annotations

import csv
import hashlib
import json
import mmap
import os
import shlex
from pathlib import Path

import numpy as np

from ._atomic import atomic_dir, atomic_file, check_destination, empty_only, os_error
from ._npz import read_npz
from ._rename import is_stamped
from ._version import __version__
from .errors import LinclassError

__all__ = ["atomic_dir", "atomic_file", "check_destination", "empty_only", "os_error", "read_npz", "read_json", "write_json",
           "save_npy", "save_npz", "file_sha256", "write_status", "read_status", "verify_files", "linclass_folder",
           "resume_command", "incomplete_status", "check_resume_folder"]


def write_json(path: str | os.PathLike, data) -> None:
    """Write data as JSON to path atomically (temporary file, then rename)."""
    with atomic_file(path, "w") as handle:
        json.dump(data, handle, indent=1, allow_nan=False)
        handle.write("\n")


MAX_JSON_BYTES = 64 << 20  # the largest JSON linclass writes (five histories) is a few MB


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_json(path: str | os.PathLike, max_bytes: int = MAX_JSON_BYTES):
    """The JSON value in path (no NaN/Infinity, at most max_bytes, checked before reading);
    OSError when it cannot be read, ValueError (a LinclassError) naming path when it is not JSON."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise LinclassError(f"{path} is {size} bytes, more than the {max_bytes} a linclass JSON file can be.")
    try:
        return json.loads(path.read_bytes(), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise LinclassError(f"{path} is not valid JSON ({type(exc).__name__}: {str(exc)[:80]}).") from None


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


def file_sha256(path: str | os.PathLike, max_bytes: int) -> str:
    """SHA-256 of a file, hashed from a read-only mapping of it (no copy into fresh memory);
    LinclassError (before reading) when it is over max_bytes."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise LinclassError(f"{path} is {size} bytes, more than the {max_bytes} this file can be; it is not "
                            "linclass's.")
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return hashlib.sha256(b"").hexdigest()
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return hashlib.sha256(mapped).hexdigest()


# ---------------------------------------------------------------- status.json
# One schema for run folders (complete, or interrupted with a checkpoint) and reproductions:
#   {"written_by": "linclass", "version": "0.1.0", "kind": "run" | "reproduction" | "sweep",
#    "state": "complete" | "incomplete" | "diverged", "files": {name: sha256}, ...details}
# details: a complete run has "steps", and so has a "diverged" one (a sweep's run whose training diverged:
# the steps it took before; it has no weights); an interrupted one "completed_steps" and "resume" (the command
# that continues it); a reproduction or a sweep has "settings" and, while incomplete, "resume". "files"
# holds the SHA-256 of each file of a run folder (verify_files checks them at load), absent before issue 10.
STATUS_FILE = "status.json"
WRITTEN_BY = "linclass"
STATUS_KINDS = ("run", "reproduction", "sweep")
STATUS_STATES = ("complete", "incomplete", "diverged")  # "diverged": runs only
_DETAIL_TYPES = {"version": str, "steps": int, "completed_steps": int, "resume": str, "settings": dict,
                 "files": dict}
MAX_FILE_BYTES = 1 << 30


def write_status(folder: str | os.PathLike, kind: str, state: str, *, files=(), **details) -> None:
    """Write folder/status.json (atomically) with the linclass marker, kind, state, the SHA-256 of
    each of `files` (names in folder) and details."""
    if kind not in STATUS_KINDS or state not in STATUS_STATES or (state == "diverged" and kind != "run"):
        raise LinclassError(f"status kind must be in {STATUS_KINDS} and state in {STATUS_STATES}; "
                            f"got {kind!r}, {state!r}.")
    folder = Path(folder)
    digests = {"files": {name: file_sha256(folder / name, MAX_FILE_BYTES) for name in files}} if files else {}
    write_json(folder / STATUS_FILE, {"written_by": WRITTEN_BY, "version": __version__, "kind": kind,
                                      "state": state, **digests, **details})


def read_status(folder: str | os.PathLike) -> dict | None:
    """folder/status.json as a dict with "kind" and "state", or None when there is no valid one.

    A file from before the marker (no "written_by") still reads: its kind is "reproduction" when it
    holds "settings", else "run"; "written_by" stays absent, so callers can tell the two apart.
    Every known detail must have its type (steps >= 0, files {name: 64 hex digits}), else None.
    """
    try:
        status = read_json(Path(folder) / STATUS_FILE, max_bytes=1 << 20)
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or status.get("state") not in STATUS_STATES:
        return None
    if "written_by" not in status:
        status["kind"] = "reproduction" if "settings" in status else "run"
    elif status.get("written_by") != WRITTEN_BY or status.get("kind") not in STATUS_KINDS:
        return None
    if status["state"] == "diverged" and status["kind"] != "run":
        return None
    for key, kind in _DETAIL_TYPES.items():
        value = status.get(key, kind())
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and value < 0):
            return None
    files = status.get("files", {})
    if not all(isinstance(name, str) and "/" not in name and isinstance(digest, str) and len(digest) == 64
               for name, digest in files.items()):
        return None
    return status


COMMAND_OF_KIND = {"run": "train", "reproduction": "reproduce", "sweep": "sweep"}  # the command that writes each
_WRITE_AGAIN = {"run": "train the run again", "reproduction": "run the reproduction again",
                "sweep": "run the sweep again"}


def verify_files(folder: str | os.PathLike, status: dict) -> None:
    """Check each file status.json lists against its SHA-256; LinclassError naming the first that differs
    and how to write it again."""
    folder = Path(folder)
    for name, expected in status.get("files", {}).items():
        try:
            found = file_sha256(folder / name, MAX_FILE_BYTES)
        except OSError as exc:
            raise LinclassError(f"cannot read {folder / name}: {exc.strerror}; the folder is incomplete.") from exc
        if found != expected:
            raise LinclassError(f"{folder / name} was changed after linclass wrote it (SHA-256 expected "
                                f"{expected[:16]}..., found {found[:16]}...); it cannot be trusted: "
                                f"{_WRITE_AGAIN.get(status.get('kind'), 'write it again')} (--force replaces the folder).")


# What linclass writes at the top of a run folder or a reproduction; --force replaces a folder only
# when it holds nothing else (temporary `.NAME.*` entries aside).
OWN_ENTRIES = {"config.json", "history.json", "weights.npz", "metrics.json", "status.json", "histories.json",
               "checkpoint.json", "checkpoint.npz", "evaluation",
               "summary.json", "report.md", "report.html", "figures", "runs", "sweep.json", "sweep.csv"}


def linclass_folder(path: Path) -> str | None:
    """None when --force may replace path (an empty folder, or one linclass wrote); else what is there.

    A folder linclass wrote holds a status.json with the "written_by" marker. An older one, from
    before the marker, counts only when it also looks like one: a readable status.json and nothing
    but the names linclass writes."""
    if path.is_symlink():
        return "a symbolic link"
    if not path.is_dir():
        return "a file" if path.exists() else None
    try:
        names = sorted(entry.name for entry in os.scandir(path))
    except OSError as exc:
        return f"a folder that cannot be read ({exc.strerror})"
    if not names:
        return None
    status = read_status(path)
    if status is None:
        return f"a folder that linclass did not write (no linclass status.json; it holds {_listing(names)})"
    foreign = [name for name in names if name not in OWN_ENTRIES and not is_stamped(name)]  # a .hidden file too
    if foreign:
        return f"a linclass folder holding files linclass did not write ({_listing(foreign)})"
    return None


def _listing(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def resume_command(kind: str, out: str | os.PathLike, jobs: int | None = None, data_dir=None) -> str:
    """The command that resumes the interrupted `kind` ("run", "reproduction", "sweep") in out, as the shell
    takes it: paths quoted, --jobs (when given) and --data-dir kept."""
    command = f"linclass {COMMAND_OF_KIND[kind]} --resume --out {shlex.quote(str(out))}"
    command += f" --jobs {jobs}" if jobs is not None else ""
    return command + (f" --data-dir {shlex.quote(str(data_dir))}" if data_dir else "")


def incomplete_status(folder: str | os.PathLike, kind: str) -> dict | None:
    """folder's status.json when it is an interrupted `kind`, else None."""
    status = read_status(folder)
    return status if status is not None and status["kind"] == kind and status["state"] == "incomplete" else None


def check_resume_folder(folder: str | os.PathLike, kind: str) -> None:
    """One clear line when the --out given with --resume is not even a folder."""
    if not Path(folder).is_dir():
        raise LinclassError(f"{folder} {'is not a folder' if Path(folder).exists() else 'does not exist'}; --resume "
                            f"continues the folder of an interrupted {kind}.")


def read_incomplete_settings(folder: str | os.PathLike, kind: str) -> dict:
    """The settings the interrupted `kind` ("reproduction", "sweep") in folder was started with, for --resume;
    one clear line when folder holds no such thing or a finished one. The values are still the caller's to check."""
    check_resume_folder(folder, kind)
    status = read_status(folder)
    if status is not None and status["kind"] != kind:
        raise LinclassError(f"{folder} is a {status['kind']}, not a {kind}; resume it with "
                            f"'{resume_command(status['kind'], folder)}'." if status["state"] == "incomplete" else
                            f"{folder} is a {status['state']} {status['kind']}, not an interrupted {kind}; give "
                            "another --out.")
    if status is None:
        raise LinclassError(f"{folder} is not an interrupted {kind} (no readable status.json of a {kind}); "
                            "give the folder of one, or another --out without --resume.")
    if status["state"] != "incomplete" or not isinstance(status.get("settings"), dict):
        raise LinclassError(f"{folder} is a complete {kind}; there is nothing to resume.")
    return status["settings"]

