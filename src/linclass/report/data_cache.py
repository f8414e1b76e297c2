"""The data a process keeps between the report's tasks: each dataset loaded once, each split built once.

A worker that is about to draw figures drops it first (release), so that its peak memory holds its
training data or matplotlib and the figures, not both; the next training task loads it again.
"""

from __future__ import annotations

from ..data import ImageDataset, load_dataset
from ..preprocess import Split
from ..runs import RunConfig, make_split

_datasets: dict[tuple, ImageDataset] = {}
_splits: dict[tuple, Split] = {}


def dataset(name: str, data_dir: str | None) -> ImageDataset:
    """The dataset `name` (found as load_dataset finds it), loaded once per process."""
    if (name, data_dir) not in _datasets:
        _datasets[name, data_dir] = load_dataset(name, data_dir)
    return _datasets[name, data_dir]


def split_for(config: RunConfig, data_dir: str | None) -> Split:
    """The config's split, built once per process and shared by the runs that use the same data."""
    key = (config.dataset, config.protocol, config.model, config.classes, config.dtype, config.train_size,
           config.n_val, data_dir)
    if key not in _splits:
        _splits[key] = make_split(config, dataset(config.dataset, data_dir))
    return _splits[key]


def release() -> None:
    """Forget every dataset and split (their memory goes back once nothing else holds them)."""
    _datasets.clear()
    _splits.clear()
