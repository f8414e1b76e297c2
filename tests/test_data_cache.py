"""The report's per-process data cache: one load and one split per process, dropped before figures."""

from __future__ import annotations

from linclass.report import data_cache
from linclass.report.summary import section
from linclass.runs import RunConfig


def test_a_split_is_built_once_and_dropped_before_a_section_is_drawn(mnist_dir, private_cache, tmp_path):
    config = RunConfig(model="logistic").resolved()
    first = data_cache.split_for(config, str(mnist_dir))
    assert data_cache.split_for(config, str(mnist_dir)) is first  # cached
    assert data_cache.dataset("mnist", str(mnist_dir)) is data_cache.dataset("mnist", str(mnist_dir))
    try:
        section("task2", {}, tmp_path, {"name": "mnist"})
    except KeyError:
        pass  # no results to draw from: it has released the data before it looked at them
    again = data_cache.split_for(config, str(mnist_dir))
    assert again is not first
    assert again.X_train.tobytes() == first.X_train.tobytes()
