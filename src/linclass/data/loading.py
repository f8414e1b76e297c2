"""Find MNIST and load it: an explicit directory, $LINCLASS_DATA_DIR, the per-user cache; when none
holds the files, a verified download from a public mirror into the cache."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import LinclassError
from .cache import load_file
from .download import download_mnist
from .sources import CACHE_DIR_ENV, DATA_DIR_ENV, MNIST_FILES, Mnist, MnistFile


def default_cache_dir() -> Path:
    """The per-user cache: $LINCLASS_CACHE_DIR, else the platform's cache folder for linclass."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    import pooch  # deferred: pooch is only needed to name the cache and to download

    return Path(pooch.os_cache("linclass"))


def _find_file(directory: Path, spec: MnistFile) -> Path | None:
    for candidate in (directory / f"{spec.name}.gz", directory / spec.name):
        if candidate.is_file():
            return candidate
    return None


def _has_all_files(directory: Path) -> bool:
    return all(_find_file(directory, spec) for spec in MNIST_FILES.values())


def resolve_data_dir(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """The folder that holds the four files: explicit dir, $LINCLASS_DATA_DIR, cache, download."""
    for given, origin in ((data_dir, "the data directory"), (os.environ.get(DATA_DIR_ENV), f"${DATA_DIR_ENV}")):
        if given:
            directory = Path(given).expanduser()
            if not directory.is_dir():
                problem = "is not a folder" if directory.exists() else "does not exist"
                raise LinclassError(
                    f"{origin} {directory} {problem}; point it at a folder with the four MNIST files."
                )
            missing = [s.name for s in MNIST_FILES.values() if _find_file(directory, s) is None]
            if missing:
                raise LinclassError(
                    f"{origin} {directory} lacks {', '.join(m + '[.gz]' for m in missing)}; "
                    "add them or leave it unset to use the cache or a download."
                )
            return directory
    cache = default_cache_dir() / "mnist"
    if _has_all_files(cache):
        return cache
    if not download:
        raise LinclassError(
            f"MNIST not found: give --data-dir or set ${DATA_DIR_ENV}, or allow a download into {cache}."
        )
    return download_mnist(cache)


def load_mnist(data_dir: str | os.PathLike | None = None, *, download: bool = True,
               cache: bool = True) -> Mnist:
    """Load the four MNIST files, each verified by SHA-256, as uint8 arrays."""
    directory = resolve_data_dir(data_dir, download=download)
    cache_dir = default_cache_dir() if cache else None
    arrays = {key: load_file(_find_file(directory, spec), spec, cache_dir) for key, spec in MNIST_FILES.items()}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        names = f"{MNIST_FILES[part + '_images'].name} and {MNIST_FILES[part + '_labels'].name}"
        if len(images) != len(labels):
            raise LinclassError(f"{names} disagree: {len(images)} images but {len(labels)} labels; "
                                "use the four files of one MNIST release.")
        if labels.size and labels.max() > 9:
            raise LinclassError(f"{MNIST_FILES[part + '_labels'].name}: found label {int(labels.max())}, "
                                "expected 0-9; the file is damaged, replace it with the original.")
    return Mnist(**arrays)
