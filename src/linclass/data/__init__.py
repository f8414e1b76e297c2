"""Data sources: the IDX format, MNIST's files and mirrors, verified downloads and the decoded cache."""

from .idx import read_idx
from .loading import default_cache_dir, load_mnist, resolve_data_dir
from .sources import CACHE_DIR_ENV, DATA_DIR_ENV, MIRRORS, MNIST_FILES, Mnist, MnistFile

__all__ = ["CACHE_DIR_ENV", "DATA_DIR_ENV", "MIRRORS", "MNIST_FILES", "Mnist", "MnistFile", "default_cache_dir",
           "load_mnist", "read_idx", "resolve_data_dir"]
