"""Find a dataset and load it: an explicit directory, its environment variable ($LINCLASS_DATA_DIR for
MNIST, $LINCLASS_FASHION_MNIST_DIR for Fashion-MNIST), the per-user cache; when none holds the files,
a verified download from a public mirror into the cache."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import LinclassError
from .cache import load_file
from .download import download_dataset
from .sources import CACHE_DIR_ENV, DataFile, DatasetSource, ImageDataset, dataset_source


def default_cache_dir() -> Path:
    """The per-user cache: $LINCLASS_CACHE_DIR, else the platform's cache folder for linclass."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    import pooch  # deferred: pooch is only needed to name the cache and to download

    return Path(pooch.os_cache("linclass"))


def _find_file(directory: Path, spec: DataFile) -> Path | None:
    for candidate in (directory / f"{spec.name}.gz", directory / spec.name):
        if candidate.is_file():
            return candidate
    return None


def _has_all_files(directory: Path, source: DatasetSource) -> bool:
    return all(_find_file(directory, spec) for spec in source.files.values())


def resolve_data_dir(data_dir: str | os.PathLike | None = None, *, download: bool = True,
                     dataset: str = "mnist") -> Path:
    """The folder that holds the dataset's four files: explicit dir, its environment variable, cache, download."""
    source = dataset_source(dataset)
    env = source.env_var
    for given, origin in ((data_dir, "the data directory"), (os.environ.get(env), f"${env}")):
        if given:
            directory = Path(given).expanduser()
            if not directory.is_dir():
                problem = "is not a folder" if directory.exists() else "does not exist"
                raise LinclassError(
                    f"{origin} {directory} {problem}; point it at a folder with the four {source.title} files."
                )
            missing = [s.name for s in source.files.values() if _find_file(directory, s) is None]
            if missing:
                raise LinclassError(
                    f"{origin} {directory} lacks {', '.join(m + '[.gz]' for m in missing)} of {source.title}; "
                    "add them or leave it unset to use the cache or a download."
                )
            return directory
    cache = default_cache_dir() / source.cache_subdir
    if _has_all_files(cache, source):
        return cache
    if not download:
        raise LinclassError(
            f"{source.title} not found: give --data-dir or set ${env}, or allow a download into {cache}."
        )
    return download_dataset(cache, source)


def load_dataset(name: str = "mnist", data_dir: str | os.PathLike | None = None, *, download: bool = True,
                 cache: bool = True) -> ImageDataset:
    """Load the four files of dataset `name` ('mnist' or 'fashion-mnist'), each verified by SHA-256."""
    source = dataset_source(name)
    directory = resolve_data_dir(data_dir, download=download, dataset=name)
    cache_dir = default_cache_dir() if cache else None
    # One thread per file: hashing, reading and the CRC-32 release the GIL, so the files overlap.
    with ThreadPoolExecutor(len(source.files)) as pool:
        loaded = pool.map(lambda spec: load_file(_find_file(directory, spec), spec, cache_dir, source.decoded_subdir),
                          source.files.values())
        arrays = dict(zip(source.files, loaded))
    n_classes = len(source.class_names)
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        names = f"{source.files[part + '_images'].name} and {source.files[part + '_labels'].name}"
        if len(images) != len(labels):
            raise LinclassError(f"{names} disagree: {len(images)} images but {len(labels)} labels; "
                                f"use the four files of one {source.title} release.")
        if labels.size and labels.max() >= n_classes:
            raise LinclassError(f"{source.files[part + '_labels'].name}: found label {int(labels.max())}, "
                                f"expected 0-{n_classes - 1}; the file is damaged, replace it with the original.")
    return ImageDataset(**arrays, name=name)


def load_mnist(data_dir: str | os.PathLike | None = None, *, download: bool = True,
               cache: bool = True) -> ImageDataset:
    """Load the four MNIST files, each verified by SHA-256, as uint8 arrays."""
    return load_dataset("mnist", data_dir, download=download, cache=cache)

