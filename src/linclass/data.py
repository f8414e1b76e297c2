"""MNIST on disk: find the four original files, verify their SHA-256, decode them (idx.py), cache.

Search order: an explicit directory, $LINCLASS_DATA_DIR, the per-user cache; when none holds the
files, a verified download from a public mirror into the cache. Decoded arrays are cached as .npy
files named by the verified hash and the CRC-32 of their bytes, so a second load hashes the sources,
reads the arrays and checks their CRC-32 (SHA-256 of 47 MB would cost ~35 ms, CRC-32 ~11 ms).
Every file is written to a temporary name and renamed into place only once complete and verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import LinclassError
from .idx import decompress, parse_idx, read_bytes

DATA_DIR_ENV = "LINCLASS_DATA_DIR"
CACHE_DIR_ENV = "LINCLASS_CACHE_DIR"
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


@dataclass(frozen=True)
class MnistFile:
    """One of the four original files: its name and the SHA-256 of the .gz and of the payload."""

    name: str
    gz_sha256: str
    raw_sha256: str
    shape: tuple[int, ...]  # expected array shape after decoding


MNIST_FILES = {
    "train_images": MnistFile(
        "train-images-idx3-ubyte",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        (60000, 28, 28),
    ),
    "train_labels": MnistFile(
        "train-labels-idx1-ubyte",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        (60000,),
    ),
    "test_images": MnistFile(
        "t10k-images-idx3-ubyte",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        (10000, 28, 28),
    ),
    "test_labels": MnistFile(
        "t10k-labels-idx1-ubyte",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        (10000,),
    ),
}


@dataclass(frozen=True)
class Mnist:
    """The four MNIST arrays: images (N, 28, 28) uint8 in [0, 255], labels (N,) uint8 in 0-9."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


# ---------------------------------------------------------------- finding and verifying files


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def download_mnist(directory: Path, mirrors: tuple[str, ...] | None = None, progress: bool = True) -> Path:
    """Fetch the four .gz files from the first mirror that serves each, verified by SHA-256.

    pooch streams each file to a temporary name in `directory` and renames it into place only
    once its hash matches, so an interrupted or concurrent download never leaves a bad file.
    """
    import pooch

    mirrors = MIRRORS if mirrors is None else tuple(mirrors)
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LinclassError(f"cannot create {directory}: {exc.strerror}; set ${CACHE_DIR_ENV} "
                            f"to a writable folder or pass --data-dir.") from exc
    downloader = pooch.HTTPDownloader(progressbar=progress, chunk_size=1 << 16, timeout=30)
    logger, level = pooch.get_logger(), pooch.get_logger().level
    logger.setLevel(logging.WARNING)  # pooch logs every download on stderr; errors are ours
    try:
        for spec in MNIST_FILES.values():
            failures = []
            for mirror in mirrors:
                try:
                    url = f"{mirror.rstrip('/')}/{spec.name}.gz"
                    pooch.retrieve(url, known_hash=f"sha256:{spec.gz_sha256}", fname=f"{spec.name}.gz",
                                   path=directory, downloader=downloader)
                    break
                except Exception as exc:  # network errors differ by backend; try the next mirror
                    failures.append(f"{mirror} ({_short_reason(exc)})")
            else:
                raise LinclassError(
                    f"could not download {spec.name}.gz from {', '.join(failures) or 'no mirror'}; "
                    f"copy the four MNIST .gz files into a folder and pass --data-dir or set ${DATA_DIR_ENV}."
                )
    finally:
        logger.setLevel(level)
    return directory


def _short_reason(exc: Exception) -> str:
    """A few words on why one download failed, instead of the backend's nested exception reprs."""
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    if isinstance(exc, requests.ConnectionError):
        if any(word in text.lower() for word in ("resolution", "resolve", "getaddrinfo", "name or service",
                                                 "unreachable")):
            return "no network"
        return "connection refused" if "refused" in text.lower() else "connection failed"
    if isinstance(exc, requests.RequestException):
        return "download interrupted"
    if isinstance(exc, ValueError) and "hash" in text.lower():
        return "SHA-256 mismatch"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def _verified_bytes(path: Path, spec: MnistFile) -> tuple[bytes, str]:
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


# ---------------------------------------------------------------- decoded-array cache


def _atomic_save_npy(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, array)
        os.replace(tmp, path)  # atomic: a reader sees the old file, the new one, or none
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_cached(path: Path, spec: MnistFile) -> np.ndarray | None:
    """The array in a cache file named ...-crc<8 hex>.npy, or None if it is damaged in any way."""
    try:
        expected_crc = int(path.stem.rsplit("-crc", 1)[1], 16)
        # Mapping reads only the header, so a damaged header cannot make us allocate a huge array.
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError, OverflowError, IndexError):
        return None
    if mapped.shape != spec.shape or mapped.dtype != np.uint8:
        return None
    array = np.array(mapped)  # into memory: the cache file may be replaced later
    del mapped
    return array if zlib.crc32(array) == expected_crc else None


def load_file(path: Path, spec: MnistFile, cache_dir: Path | None) -> np.ndarray:
    """One verified MNIST file as a uint8 array, decoded once and then read from the cache."""
    data, digest = _verified_bytes(path, spec)
    decoded_dir = cache_dir / "decoded" if cache_dir else None
    prefix = f"{spec.name}-{digest[:16]}"
    if decoded_dir is not None:
        for candidate in sorted(decoded_dir.glob(f"{prefix}-crc*.npy")):
            array = _load_cached(candidate, spec)
            if array is not None:
                return array
            with contextlib.suppress(OSError):
                candidate.unlink()  # damaged: never trusted, rewritten below
    array = parse_idx(decompress(data, path), source=str(path))
    check_shape(array, spec, path)
    if decoded_dir is not None:
        with contextlib.suppress(OSError):  # an unwritable cache only costs speed
            _atomic_save_npy(decoded_dir / f"{prefix}-crc{zlib.crc32(array):08x}.npy", array)
            (decoded_dir / f"{prefix}.npy").unlink(missing_ok=True)  # the format before the CRC-32
    return array


def check_shape(array: np.ndarray, spec: MnistFile, path: Path) -> None:
    """Raise a clear LinclassError unless the decoded array has the shape the spec expects."""
    if array.shape == spec.shape:
        return
    expected = (f"{spec.shape[0]} images of {spec.shape[1]}x{spec.shape[2]} pixels {spec.shape}"
                if len(spec.shape) == 3 else f"{spec.shape[0]} labels {spec.shape}")
    raise LinclassError(f"{path} holds a {array.ndim}-D array of shape {array.shape}, but {spec.name} "
                        f"must hold {expected}; is it the right file?")


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
