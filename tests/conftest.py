"""Shared fixtures: real MNIST and Fashion-MNIST from the offline folders, and a private cache for every
test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linclass.data import DATA_DIR_ENV, FASHION_DIR_ENV, FASHION_MNIST_FILES, MNIST_FILES

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
SHARED_FASHION = REPO.parent / "shared" / "data" / "fashion-mnist"


def _find_dir(env: str, shared: Path, files: dict) -> Path | None:
    for candidate in (os.environ.get(env), shared):
        if candidate and all((Path(candidate) / f"{spec.name}.gz").is_file() for spec in files.values()):
            return Path(candidate)
    return None


def find_mnist_dir() -> Path | None:
    """The offline MNIST folder: $LINCLASS_DATA_DIR (the Makefile sets it) or ../shared/data/mnist."""
    return _find_dir(DATA_DIR_ENV, SHARED_MNIST, MNIST_FILES)


def find_fashion_dir() -> Path | None:
    """The offline Fashion-MNIST folder: $LINCLASS_FASHION_MNIST_DIR (the Makefile sets it) or
    ../shared/data/fashion-mnist."""
    return _find_dir(FASHION_DIR_ENV, SHARED_FASHION, FASHION_MNIST_FILES)


# Whole modules that train full runs or whole reproductions on real MNIST; `make test-fast` leaves
# them out (pytest -m "not slow"). Single slow tests elsewhere carry @pytest.mark.slow themselves.
SLOW_MODULES = {"test_resume.py", "test_reproduce.py", "test_reproduce_datasets.py", "test_report_widgets.py",
                "test_supervision.py", "test_tamper.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Keep the tests' decoded-array cache out of the user's home."""
    cache = tmp_path_factory.mktemp("linclass-cache")
    previous = os.environ.get("LINCLASS_CACHE_DIR")
    os.environ["LINCLASS_CACHE_DIR"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("LINCLASS_CACHE_DIR", None)
    else:
        os.environ["LINCLASS_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    directory = find_mnist_dir()
    if directory is None:
        pytest.fail("real MNIST not found: set LINCLASS_DATA_DIR to a folder with the four .gz files")
    return directory


@pytest.fixture(scope="session")
def mnist(mnist_dir, private_cache):
    from linclass.data import load_mnist

    return load_mnist(mnist_dir)


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    directory = find_fashion_dir()
    if directory is None:
        pytest.fail("real Fashion-MNIST not found: set LINCLASS_FASHION_MNIST_DIR to a folder with the four .gz files")
    return directory


@pytest.fixture(scope="session")
def fashion(fashion_dir, private_cache):
    from linclass.data import load_dataset

    return load_dataset("fashion-mnist", fashion_dir)


# ---------------------------------------------------------------- hypothesis profiles
# `make test` runs a few hundred examples per property; `make fuzz` selects the long profile with
# LINCLASS_HYPOTHESIS_PROFILE=fuzz (LINCLASS_FUZZ_EXAMPLES examples per property, 20000 by default).
# No deadline: the machine is shared, and a slow example is not a bug.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("linclass", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=int(os.environ.get("LINCLASS_FUZZ_EXAMPLES", "20000")),
                          deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("LINCLASS_HYPOTHESIS_PROFILE", "linclass"))
