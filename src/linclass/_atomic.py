"""Atomic files and folders: written under a temporary name beside the destination (carrying this
process's id, see _rename) and renamed into place only once complete, so a reader (or a crash) sees
the old file, the new one, or none; and expected OS failures as one-line LinclassErrors."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ._rename import clean_stale, exchange, recover, rename_new, stamped_dir, stamped_prefix
from .errors import LinclassError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def os_error(action: str, path, exc: OSError) -> LinclassError:
    """A one-line LinclassError for an expected OS failure (full disk, name too long, busy, ...)."""
    code = errno.errorcode.get(exc.errno, "") if exc.errno else ""
    hints = {errno.ENOSPC: "free some space or choose another --out",
             errno.ENAMETOOLONG: "choose a shorter name", errno.EACCES: "choose a writable --out",
             errno.EROFS: "choose a writable --out", errno.EBUSY: "close what uses it and try again"}
    reason = exc.strerror or type(exc).__name__
    return LinclassError(f"cannot {action} {path}: {reason}{f' ({code})' if code else ''}; "
                         f"{hints.get(exc.errno, 'check the path and try again')}.")


@contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb"):
    """Open a temporary file beside path; rename it onto path only if the block succeeds.

    OS failures (a full disk, a name too long, ...) become one-line LinclassErrors naming path;
    nothing half-written is left. The temporary name carries this process's id (see _rename)."""
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=stamped_prefix(path), suffix=".tmp")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise os_error("write", path, exc) from exc
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def empty_only(path: Path) -> str | None:
    """The default policy of atomic_dir(force=True): replace only an empty folder."""
    if path.is_symlink() or not path.is_dir():
        return "a symbolic link" if path.is_symlink() else "a file"
    return None if not any(os.scandir(path)) else "a folder that is not empty"


@contextmanager
def atomic_dir(path: str | os.PathLike, force: bool = False, *, protected=(), replaceable=empty_only,
               keep_on_interrupt: bool = False):
    """Yield a temporary folder beside path; it becomes path only if the block succeeds.

    path is checked at the start (check_destination: refused if it exists, unless force and
    replaceable(path) finds nothing against it, see _io.linclass_folder) and again at the end:
    a path that appeared meanwhile is never replaced (the new folder is kept beside it, under a name the error reports). A forced
    replacement swaps the two folders in one step, so there is always a folder at path.
    keep_on_interrupt: on KeyboardInterrupt the folder is still put in place when it holds a
    status.json (it is then a resumable, incomplete folder), instead of being discarded.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        recover(path)
        clean_stale(path.parent, path.name)
    except OSError as exc:
        raise os_error("write", path, exc) from exc
    check_destination(path, force, protected, replaceable)
    try:
        tmp = Path(stamped_dir(path))
        os.chmod(tmp, 0o777 & ~_umask())
    except OSError as exc:
        raise os_error("write", path, exc) from exc
    try:
        yield tmp
        _publish(tmp, path, force, replaceable)
    except KeyboardInterrupt:
        if keep_on_interrupt and (tmp / "status.json").is_file():
            _publish(tmp, path, force, replaceable)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


PUBLISHED: list[Path] = []  # the folders this process has put in place, latest last (see cli.main)


def _publish(tmp: Path, path: Path, force: bool, replaceable) -> None:
    """tmp becomes path: as new, or (force) swapped with a folder it may replace; else kept aside."""
    try:
        if not os.path.lexists(path):
            rename_new(tmp, path)
            PUBLISHED.append(path)
            return
        if force and replaceable(path) is None:
            shutil.rmtree(exchange(tmp, path), ignore_errors=True)
            PUBLISHED.append(path)
            return
    except FileExistsError:
        pass
    except OSError as exc:
        raise os_error("write", path, exc) from exc
    kept = _free_name(path)
    os.rename(tmp, kept)
    raise LinclassError(f"{path} appeared while this command ran (another process?) and was left as it is; "
                        f"the new result is kept in {kept}.")


def _free_name(path: Path) -> Path:
    for n in range(1, 10_000):
        candidate = path.with_name(f"{path.name}.{n}")
        if not os.path.lexists(candidate):
            return candidate
    raise LinclassError(f"no free name beside {path}; clean up {path.parent}.")


def check_destination(path: Path, force: bool, protected=(), replaceable=empty_only) -> None:
    """Refuse an --out that is, or contains, the current folder (so also / and ..) or a protected one
    (the data folder); an existing one unless force; with force, anything replaceable() refuses."""
    target = path.resolve()
    for kind, folder in [("the current folder", Path.cwd()), *(("the data folder", p) for p in protected if p)]:
        folder = Path(folder).resolve()
        if target == folder or target in folder.parents:
            relation = "is" if target == folder else "contains"
            raise LinclassError(f"refusing --out {path}: it {relation} {kind} ({folder}); choose a new folder "
                                "such as runs/NAME.")
    if not os.path.lexists(path):
        return
    if not force:
        raise LinclassError(f"{path} already exists; choose another --out, or pass --force to replace it (only a "
                            "folder linclass wrote; the old one stays in place until the new one is complete).")
    problem = replaceable(path)
    if problem is not None:
        raise LinclassError(f"refusing to replace {path}: it is {problem}; move it away or choose "
                            "another --out.")
