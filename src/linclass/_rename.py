"""Renames that never lose a folder, and temporary names that say which process made them.

- rename_new(src, dst): src becomes dst only if nothing is at dst (Linux renameat2 RENAME_NOREPLACE;
  elsewhere a check then a rename). Raises FileExistsError otherwise: nothing is ever replaced.
- exchange(src, dst): swap two folders in one step (RENAME_EXCHANGE), so dst is never missing. Where
  the kernel or file system cannot, dst is moved aside into a `.NAME.<pid>-*.old` folder first; an
  interruption between the two renames is undone by recover() at the next start.
- Temporary names carry the creating process id (`.NAME.<pid>-XXXX.tmp`), so a later start can prove
  them dead (that process no longer runs) and remove them: clean_stale().
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
from pathlib import Path

_RENAME_NOREPLACE, _RENAME_EXCHANGE, _AT_FDCWD = 1, 2, -100
_STAMPED = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[^.]*\.(?P<kind>tmp|old)$")


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """True when done; False when this system has no renameat2 for these paths (fall back)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return False
    if call(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(dst))


def rename_new(src: Path, dst: Path) -> None:
    """Rename src to dst, or FileExistsError when anything (even an empty folder) is at dst."""
    if _renameat2(src, dst, _RENAME_NOREPLACE):
        return
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    try:
        os.rename(src, dst)
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst)) from exc
        raise


def exchange(src: Path, dst: Path) -> Path:
    """Put the folder src at dst and return where the old dst now is (to be removed by the caller)."""
    if _renameat2(src, dst, _RENAME_EXCHANGE):
        return src
    aside = Path(stamped_dir(dst, "old"))
    os.rename(dst, aside / "previous")  # from here to the next line dst is missing: recover() undoes it
    os.rename(src, dst)
    return aside


def is_stamped(name: str) -> bool:
    """Whether name is one of linclass's temporary names (`.NAME.<pid>-XXXX.tmp` or `.old`)."""
    return _STAMPED.match(name) is not None


def stamped_dir(path: Path, kind: str = "tmp") -> str:
    """A new empty folder `.NAME.<pid>-XXXX.<kind>` beside path."""
    import tempfile

    return tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-", suffix=f".{kind}")


def stamped_prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}-"


def process_alive(pid: int) -> bool:
    """False only when no process with this id runs (the proof clean_stale needs)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or cannot tell: keep
    return True


def _stale(folder: Path, name: str | None = None):
    """(entry, kind, name) of temporary entries in folder whose creating process no longer runs."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = _STAMPED.match(entry.name)
        if match and (name is None or match["name"] == name) and not process_alive(int(match["pid"])):
            yield Path(entry.path), match["kind"], match["name"]


def recover(path: Path) -> Path | None:
    """If a replacement of path was cut between its two renames, move the old folder back; its path."""
    if os.path.lexists(path):
        return None
    for entry, kind, _ in _stale(path.parent, path.name):
        previous = entry / "previous"
        if kind == "old" and previous.exists():
            os.rename(previous, path)
            shutil.rmtree(entry, ignore_errors=True)
            return path
    return None


def clean_stale(folder: Path, name: str | None = None) -> list[Path]:
    """Remove temporary files and folders in folder left by processes that no longer run."""
    removed = []
    for entry, kind, entry_name in list(_stale(folder, name)):
        if kind == "old" and (entry / "previous").exists() and not os.path.lexists(folder / entry_name):
            continue  # recover() puts it back first
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed
