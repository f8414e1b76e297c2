"""Where the datasets come from: MNIST and Fashion-MNIST, each with its four files and their hashes,
its public mirrors, its class names and the environment variable that points at a local copy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LinclassError

DATA_DIR_ENV = "LINCLASS_DATA_DIR"
FASHION_DIR_ENV = "LINCLASS_FASHION_MNIST_DIR"
CACHE_DIR_ENV = "LINCLASS_CACHE_DIR"
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FASHION_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)


@dataclass(frozen=True)
class DataFile:
    """One of a dataset's four files: its name, the SHA-256 of its decompressed payload and, when
    every copy has the same .gz bytes, of the .gz; the published .gz MD5 verifies a download."""

    name: str
    gz_sha256: str | None  # None: copies are re-compressed, so only the payload identifies the file
    raw_sha256: str
    shape: tuple[int, ...]  # expected array shape after decoding
    gz_md5: str | None = None


MnistFile = DataFile  # the name before Fashion-MNIST


MNIST_FILES = {
    "train_images": DataFile(
        "train-images-idx3-ubyte",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        (60000, 28, 28),
    ),
    "train_labels": DataFile(
        "train-labels-idx1-ubyte",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        (60000,),
    ),
    "test_images": DataFile(
        "t10k-images-idx3-ubyte",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        (10000, 28, 28),
    ),
    "test_labels": DataFile(
        "t10k-labels-idx1-ubyte",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        (10000,),
    ),
}

# The payload SHA-256s and published .gz MD5s from the Fashion-MNIST README (Xiao et al. 2017).
FASHION_MNIST_FILES = {
    "train_images": DataFile("train-images-idx3-ubyte", None,
                             "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                             (60000, 28, 28), "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    "train_labels": DataFile("train-labels-idx1-ubyte", None,
                             "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                             (60000,), "25c81989df183df01b3e8a0aad5dffbe"),
    "test_images": DataFile("t10k-images-idx3-ubyte", None,
                            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                            (10000, 28, 28), "bef4ecab320f06d8554ea6380940ec79"),
    "test_labels": DataFile("t10k-labels-idx1-ubyte", None,
                            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                            (10000,), "bb300cfdad3c16e7a12a480ee83cd310"),
}


@dataclass(frozen=True)
class DatasetSource:
    """Everything linclass knows about one dataset before reading it.

    class_names: the name of each label 0-9; class_word: what one image shows ("digit", "item");
    default_classes: the two-class task's pair, target 1 then target 0; cache_subdir: the folder
    of the per-user cache that holds its downloads and decoded arrays.
    """

    name: str
    title: str
    files: dict
    mirrors: tuple[str, ...]
    env_var: str
    cache_subdir: str
    decoded_subdir: str
    class_names: tuple[str, ...]
    class_word: str
    default_classes: tuple[int, int]
    published_logistic_test_accuracy: float | None = None
    published_baseline_source: str | None = None

    @property
    def is_digits(self) -> bool:
        """Whether the images are handwritten digits: a user can draw one, and texts say 'digit 2'."""
        return self.class_word == "digit"

    def class_label(self, index: int) -> str:
        """'digit 2' for MNIST, 'Shirt' for Fashion-MNIST."""
        name = self.class_names[index]
        return f"{self.class_word} {name}" if self.is_digits else name


DATASETS = {
    "mnist": DatasetSource(
        "mnist", "MNIST", MNIST_FILES, MIRRORS, DATA_DIR_ENV, "mnist", "decoded",
        tuple(str(d) for d in range(10)), "digit", (2, 3)),
    "fashion-mnist": DatasetSource(
        "fashion-mnist", "Fashion-MNIST", FASHION_MNIST_FILES, FASHION_MIRRORS, FASHION_DIR_ENV,
        "fashion-mnist", "fashion-mnist/decoded",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        "item", (6, 0), 0.84,
        "scikit-learn's LogisticRegression in the benchmark table of Xiao, Rasul and Vollgraf (2017)"),
}


def dataset_source(name: str) -> DatasetSource:
    """The DatasetSource of 'mnist' or 'fashion-mnist' (LinclassError naming the choices otherwise)."""
    if not isinstance(name, str) or name not in DATASETS:
        raise LinclassError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}.")
    return DATASETS[name]


@dataclass(frozen=True)
class ImageDataset:
    """The four arrays of a dataset: images (N, 28, 28) uint8 in [0, 255], labels (N,) uint8 in 0-9."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    name: str = "mnist"


Mnist = ImageDataset  # the name before Fashion-MNIST; Mnist(...) still builds an MNIST dataset


def known_file(sha256: str) -> tuple[DatasetSource, DataFile] | None:
    """The dataset and file whose published .gz or decompressed payload has this SHA-256, if any."""
    for source in DATASETS.values():
        for spec in source.files.values():
            if sha256 in (spec.gz_sha256, spec.raw_sha256):
                return source, spec
    return None
