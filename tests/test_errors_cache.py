"""The decoded-array cache is never trusted unless verified: damaged, misnamed, interrupted, unwritable
or concurrently written cache files cost only speed."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from linclass.data import MNIST_FILES, load_mnist
from linclass.data.cache import load_file


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("LINCLASS_CACHE_DIR", str(cache))
    return cache


def cache_files(cache: Path, name: str = "") -> list[Path]:
    return sorted((cache / "decoded").glob(f"{name}*.npy"))


def _with_header_shape(payload: bytes, shape: tuple, new_shape: tuple) -> bytes:
    """The .npy file with another shape in its header, padded to keep the header length."""
    end = payload.index(b"\n") + 1
    header = payload[:end].decode("latin1")
    grown = header.replace(str(shape), str(new_shape), 1)
    extra = len(grown) - len(header)
    assert extra > 0 and grown[-1 - extra:-1] == " " * extra
    return (grown[:-1 - extra] + "\n").encode("latin1") + payload[end:]


def _check_cache_file(path: Path) -> None:
    """The file is a complete .npy whose bytes have the CRC-32 its name gives."""
    array = np.load(path, allow_pickle=False)
    assert zlib.crc32(array) == int(path.stem.rsplit("-crc", 1)[1], 16)


CACHE_DAMAGE = ["truncated", "same size, one byte flipped", "empty", "header claims a huge shape", "not a .npy file"]


@pytest.mark.parametrize("key, how", [("test_labels", how) for how in CACHE_DAMAGE]
                         + [("train_images", "truncated"), ("train_images", "same size, one byte flipped")])
def test_damaged_cache_file_is_detected_and_replaced(fresh_cache, mnist_dir, mnist, key, how):
    spec = MNIST_FILES[key]
    source = mnist_dir / f"{spec.name}.gz"
    load_file(source, spec, fresh_cache)
    [path] = cache_files(fresh_cache, spec.name)
    payload = bytearray(path.read_bytes())
    if how == "truncated":
        payload = payload[: len(payload) - 1000]
    elif how.startswith("same size"):
        payload[len(payload) - 500] ^= 0x01
    elif how == "empty":
        payload = b""
    elif how.startswith("header"):
        payload = _with_header_shape(bytes(payload), spec.shape, (10**15,) + spec.shape[1:])
    else:
        payload = b"garbage" * 100
    path.write_bytes(bytes(payload))
    np.testing.assert_array_equal(load_file(source, spec, fresh_cache), getattr(mnist, key))
    [replaced] = cache_files(fresh_cache, spec.name)
    _check_cache_file(replaced)


def test_cache_file_with_a_wrong_name_is_not_trusted(fresh_cache, mnist_dir, mnist):
    load_mnist(mnist_dir)
    [path] = cache_files(fresh_cache, "t10k-labels")
    path.rename(path.with_name(path.name.replace("-crc", "-crcXYZ")))
    again = load_mnist(mnist_dir)
    np.testing.assert_array_equal(again.test_labels, mnist.test_labels)
    [good] = cache_files(fresh_cache, "t10k-labels")
    _check_cache_file(good)


def test_interrupted_cache_write_leaves_nothing(fresh_cache, mnist_dir, monkeypatch):
    def crash(handle, array):
        handle.write(b"\x93NUMPY partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        load_mnist(mnist_dir)
    assert list((fresh_cache / "decoded").iterdir()) == []


def test_leftover_temporary_file_is_ignored(fresh_cache, mnist_dir, mnist):
    decoded = fresh_cache / "decoded"
    decoded.mkdir(parents=True)
    (decoded / ".train-labels-idx1-ubyte-3552534a0a558bbe-crc00000000.npy.abc.tmp").write_bytes(b"\x93NUMPY")
    again = load_mnist(mnist_dir)
    np.testing.assert_array_equal(again.train_labels, mnist.train_labels)


def test_unwritable_cache_only_costs_speed(tmp_path, monkeypatch, mnist_dir, mnist):
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("LINCLASS_CACHE_DIR", str(tmp_path / "a-file"))
    again = load_mnist(mnist_dir)
    np.testing.assert_array_equal(again.train_labels, mnist.train_labels)


def test_a_folder_where_a_cache_file_goes_only_costs_speed(fresh_cache, mnist_dir, mnist):
    """It used to fail every load with 'cannot write ...npy: Is a directory'."""
    load_mnist(mnist_dir)
    for path in cache_files(fresh_cache, "t10k-labels"):
        path.unlink()
        path.mkdir()
    for _ in range(2):
        np.testing.assert_array_equal(load_mnist(mnist_dir).test_labels, mnist.test_labels)


_LOADER = """
import sys, zlib
from linclass.data import load_mnist
m = load_mnist(sys.argv[1])
print(*(zlib.crc32(getattr(m, k)) for k in ("train_images", "train_labels", "test_images", "test_labels")))
"""


def test_two_processes_loading_at_once_leave_a_good_cache(fresh_cache, mnist_dir, mnist):
    env = {**os.environ, "LINCLASS_CACHE_DIR": str(fresh_cache)}
    loaders = [subprocess.Popen([sys.executable, "-c", _LOADER, str(mnist_dir)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [loader.communicate(timeout=300) for loader in loaders]
    expected = " ".join(str(zlib.crc32(getattr(mnist, k)))
                        for k in ("train_images", "train_labels", "test_images", "test_labels"))
    for loader, (out, err) in zip(loaders, results):
        assert loader.returncode == 0, err
        assert out.strip() == expected
    names = sorted(p.name for p in (fresh_cache / "decoded").iterdir())
    assert len(names) == 4 and all(name.endswith(".npy") for name in names), names
    for path in cache_files(fresh_cache):
        _check_cache_file(path)
    third = load_mnist(mnist_dir)
    for key in ("train_images", "train_labels", "test_images", "test_labels"):
        np.testing.assert_array_equal(getattr(third, key), getattr(mnist, key))


def test_load_file_without_cache(mnist_dir, mnist):
    spec = MNIST_FILES["test_labels"]
    array = load_file(mnist_dir / f"{spec.name}.gz", spec, None)
    np.testing.assert_array_equal(array, mnist.test_labels)


def test_cache_file_of_the_format_before_the_crc_is_removed(fresh_cache, mnist_dir):
    spec = MNIST_FILES["test_labels"]
    legacy = fresh_cache / "decoded" / f"{spec.name}-{spec.gz_sha256[:16]}.npy"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"old")
    load_mnist(mnist_dir)
    assert not legacy.exists()


def test_killed_loader_leaves_no_trusted_damage(fresh_cache, mnist_dir, mnist):
    env = {**os.environ, "LINCLASS_CACHE_DIR": str(fresh_cache)}
    loader = subprocess.Popen([sys.executable, "-c", _LOADER, str(mnist_dir)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        loader.wait(timeout=0.8)  # killed while importing, decoding or writing the cache
    except subprocess.TimeoutExpired:
        loader.kill()
        loader.wait()
    again = load_mnist(mnist_dir)
    for key in ("train_images", "train_labels", "test_images", "test_labels"):
        np.testing.assert_array_equal(getattr(again, key), getattr(mnist, key))
    for path in cache_files(fresh_cache):
        _check_cache_file(path)


def test_cached_load_maps_the_cache_file_read_only(fresh_cache, mnist_dir, mnist):
    """A cached load uses the cache file's pages as they are (no copy into fresh memory): the array is
    a read-only map of the file, and a cache file replaced later (as every write does, by rename)
    leaves an array already loaded unchanged."""
    import mmap

    spec = MNIST_FILES["test_images"]
    source = mnist_dir / f"{spec.name}.gz"
    load_file(source, spec, fresh_cache)
    cached = load_file(source, spec, fresh_cache)
    np.testing.assert_array_equal(cached, mnist.test_images)
    assert not cached.flags.writeable
    base = cached
    while isinstance(base, np.ndarray):
        base = base.base
    assert isinstance(base.obj if isinstance(base, memoryview) else base, mmap.mmap)
    [path] = cache_files(fresh_cache, spec.name)
    replacement = path.with_name(path.name + ".new")
    replacement.write_bytes(b"\0" * path.stat().st_size)
    replacement.replace(path)
    np.testing.assert_array_equal(cached, mnist.test_images)
