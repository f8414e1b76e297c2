"""Where MNIST comes from: the four original files with their SHA-256s, the public mirrors, and the
environment variables that point at local copies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
