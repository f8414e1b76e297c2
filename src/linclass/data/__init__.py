"""Data sources: the IDX format, MNIST's and Fashion-MNIST's files and mirrors, verified downloads and
the decoded cache."""

from .idx import read_idx
from .loading import default_cache_dir, load_dataset, load_mnist, resolve_data_dir
from .sources import (CACHE_DIR_ENV, DATA_DIR_ENV, DATASETS, FASHION_DIR_ENV, FASHION_MNIST_FILES, MIRRORS,
                      MNIST_FILES, DataFile, DatasetSource, ImageDataset, Mnist, MnistFile, dataset_source)

__all__ = ["CACHE_DIR_ENV", "DATASETS", "DATA_DIR_ENV", "FASHION_DIR_ENV", "FASHION_MNIST_FILES", "MIRRORS",
           "MNIST_FILES", "DataFile", "DatasetSource", "ImageDataset", "Mnist", "MnistFile", "dataset_source",
           "default_cache_dir", "load_dataset", "load_mnist", "read_idx", "resolve_data_dir"]
