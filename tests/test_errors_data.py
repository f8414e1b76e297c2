"""Bad MNIST files and folders get one clear error (LinclassError; exit code 2 and one stderr line on the
command line) and leave nothing behind: missing folders and files, SHA-256 mismatches, damaged IDX
files, images and labels that disagree."""

from __future__ import annotations

import gzip
import struct
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from linclass.data import MNIST_FILES, load_mnist, resolve_data_dir
from linclass.data.idx import parse_idx, read_idx
from linclass.errors import LinclassError

from errors_support import (assert_nothing_left, assert_one_line_error, idx_bytes, run_cli, sha256,
                            train_args)


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A folder of four tiny valid IDX .gz files, registered in MNIST_FILES with their hashes and shapes.

    `write(key, file_bytes, shape)` replaces one file and pins its new hash, so the structural checks
    behind the SHA-256 check can be reached (with the real hashes every damaged file is a mismatch).
    """
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8),
        "train_labels": np.array([0, 1, 2, 3, 4, 5], dtype=np.uint8),
        "test_images": rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8),
        "test_labels": np.array([6, 7, 8, 9], dtype=np.uint8),
    }
    folder = tmp_path / "fake-mnist"
    folder.mkdir()

    def write(key: str, file_bytes: bytes, shape: tuple[int, ...]) -> Path:
        spec = MNIST_FILES[key]
        path = folder / f"{spec.name}.gz"
        path.write_bytes(file_bytes)
        monkeypatch.setitem(MNIST_FILES, key, replace(spec, gz_sha256=sha256(file_bytes), shape=shape))
        return path

    for key, array in arrays.items():
        write(key, gzip.compress(idx_bytes(array), mtime=0), array.shape)
    return SimpleNamespace(dir=folder, arrays=arrays, write=write)


@pytest.fixture
def mnist_copy(tmp_path, mnist_dir):
    """A folder of links to the real files, so a test can replace one of them cheaply."""
    folder = tmp_path / "mnist-copy"
    folder.mkdir()
    for spec in MNIST_FILES.values():
        (folder / f"{spec.name}.gz").symlink_to(mnist_dir / f"{spec.name}.gz")
    return folder


def damage(folder: Path, name: str, payload: bytes) -> Path:
    path = folder / name
    path.unlink()
    path.write_bytes(payload)
    return path


def test_missing_data_dir_api_and_cli(tmp_path, capsys):
    with pytest.raises(LinclassError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    code, _, err = run_cli(train_args(tmp_path / "nowhere", tmp_path / "run"), capsys)
    assert_one_line_error(code, err, "does not exist", str(tmp_path / "nowhere"))
    assert_nothing_left(tmp_path)


@pytest.mark.parametrize("missing", [spec.name for spec in MNIST_FILES.values()])
def test_data_dir_lacking_one_file(mnist_copy, tmp_path, capsys, missing):
    (mnist_copy / f"{missing}.gz").unlink()
    with pytest.raises(LinclassError, match=f"lacks {missing}"):
        load_mnist(mnist_copy)
    code, _, err = run_cli(train_args(mnist_copy, tmp_path / "run"), capsys)
    assert_one_line_error(code, err, f"lacks {missing}")
    assert_nothing_left(tmp_path)


def test_env_data_dir_that_does_not_exist(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LINCLASS_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(LinclassError, match=r"\$LINCLASS_DATA_DIR .* does not exist"):
        resolve_data_dir()
    code, _, err = run_cli(["train", "--out", tmp_path / "run", "--no-progress"], capsys)
    assert_one_line_error(code, err, "LINCLASS_DATA_DIR", "does not exist")
    assert_nothing_left(tmp_path)


def test_data_dir_that_is_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(train_args(tmp_path / "file", tmp_path / "run"), capsys)
    assert_one_line_error(code, err, "is not a folder")


# ---------------------------------------------------------------- SHA-256 mismatch


@pytest.mark.parametrize("key", ["train_images", "test_labels"])
def test_sha256_mismatch_names_file_both_hashes_and_fix(mnist_copy, mnist_dir, tmp_path, capsys, key):
    spec = MNIST_FILES[key]
    payload = bytearray((mnist_dir / f"{spec.name}.gz").read_bytes())
    payload[len(payload) // 2] ^= 0x01
    damage(mnist_copy, f"{spec.name}.gz", bytes(payload))
    with pytest.raises(LinclassError) as info:
        load_mnist(mnist_copy)
    message = str(info.value)
    for fragment in (f"{spec.name}.gz", spec.gz_sha256, sha256(bytes(payload)), "SHA-256 mismatch",
                     "replace it with the original"):
        assert fragment in message
    code, _, err = run_cli(train_args(mnist_copy, tmp_path / "run"), capsys)
    assert_one_line_error(code, err, f"{spec.name}.gz", spec.gz_sha256, sha256(bytes(payload)))
    assert_nothing_left(tmp_path)


def test_uncompressed_file_mismatch_uses_payload_hash(mnist_copy, mnist_dir):
    spec = MNIST_FILES["test_labels"]
    (mnist_copy / f"{spec.name}.gz").unlink()
    payload = gzip.decompress((mnist_dir / f"{spec.name}.gz").read_bytes())[:-1] + b"\x03"
    (mnist_copy / spec.name).write_bytes(payload)
    with pytest.raises(LinclassError, match=f"expected {spec.raw_sha256}, found {sha256(payload)}"):
        load_mnist(mnist_copy)


# ---------------------------------------------------------------- damaged files


def _images(shape=(6, 28, 28)) -> np.ndarray:
    return np.arange(np.prod(shape), dtype=np.int64).reshape(shape).astype(np.uint8)


GOOD_IDX = idx_bytes(_images())


DAMAGED_TRAIN_IMAGES = {
    # case: (file bytes, what the message must say)
    "truncated gzip": (gzip.compress(GOOD_IDX, mtime=0)[:-20], "damaged or truncated gzip"),
    "not gzip": (GOOD_IDX, "not a gzip file"),
    "empty file": (b"", "not a gzip file (it is empty)"),
    "wrong magic": (gzip.compress(b"\x00\x00\x0d\x03" + GOOD_IDX[4:]), "bad IDX magic number 0x00000d03"),
    "count disagrees with size": (gzip.compress(GOOD_IDX[:4] + struct.pack(">I", 7) + GOOD_IDX[8:]),
                                  "IDX header declares shape (7, 28, 28)"),
    "payload truncated": (gzip.compress(GOOD_IDX[:-100]), "truncated or damaged"),
    "images of 27x28": (gzip.compress(idx_bytes(_images((6, 27, 28)))),
                        "holds a 3-D array of shape (6, 27, 28), but train-images-idx3-ubyte must hold "
                        "6 images of 28x28 pixels"),
    "1-D file where images are expected": (gzip.compress(idx_bytes(_images((6 * 784,)))),
                                           "holds a 1-D array of shape (4704,)"),
}


@pytest.mark.parametrize("case", DAMAGED_TRAIN_IMAGES)
def test_damaged_idx_behind_a_matching_hash(fake_mnist, tmp_path, capsys, case):
    file_bytes, message = DAMAGED_TRAIN_IMAGES[case]
    fake_mnist.write("train_images", file_bytes, shape=(6, 28, 28))
    with pytest.raises(LinclassError) as info:
        load_mnist(fake_mnist.dir)
    assert message in str(info.value) and "\n" not in str(info.value)
    code, _, err = run_cli(train_args(fake_mnist.dir, tmp_path / "run"), capsys)
    assert_one_line_error(code, err, message)
    assert_nothing_left(tmp_path)


@pytest.mark.parametrize("case", ["truncated gzip", "not gzip", "wrong magic", "count disagrees with size"])
def test_damaged_real_file_is_a_hash_mismatch(mnist_copy, tmp_path, capsys, case):
    damage(mnist_copy, "train-images-idx3-ubyte.gz", DAMAGED_TRAIN_IMAGES[case][0])
    code, _, err = run_cli(train_args(mnist_copy, tmp_path / "run"), capsys)
    assert_one_line_error(code, err, "train-images-idx3-ubyte.gz: SHA-256 mismatch")
    assert_nothing_left(tmp_path)


def test_read_idx_names_the_problem(tmp_path):
    cases = {
        "x.gz": (gzip.compress(idx_bytes(_images()))[:-20], "damaged or truncated gzip"),
        "y.gz": (idx_bytes(_images()), "not a gzip file"),
        "z-idx3-ubyte": (b"\x00\x00\x08\x04" + idx_bytes(_images())[4:], "bad IDX magic"),
        "w-idx3-ubyte": (idx_bytes(_images())[:-1], r"declares shape \(6, 28, 28\)"),
    }
    for name, (payload, message) in cases.items():
        (tmp_path / name).write_bytes(payload)
        with pytest.raises(LinclassError, match=message):
            read_idx(tmp_path / name)
    with pytest.raises(LinclassError, match="cannot read"):
        read_idx(tmp_path / "absent")
    with pytest.raises(LinclassError, match="cannot read"):
        read_idx(tmp_path)  # a folder


def test_header_with_overflowing_dimensions_is_rejected_without_allocating():
    # 2**31 * 2**31 * 4 == 2**64: wraps to 0 in int64, so a 16-byte file looked complete.
    header = b"\x00\x00\x08\x03" + struct.pack(">3I", 2**31, 2**31, 4)
    with pytest.raises(LinclassError, match="declares shape"):
        parse_idx(header)
    with pytest.raises(LinclassError, match="declares shape"):
        parse_idx(b"\x00\x00\x08\x03" + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 2**32 - 1) + b"\x00" * 64)
    # Zero images of 3e9 x 3e9 pixels: zero bytes, as declared, but NumPy cannot make that shape.
    with pytest.raises(LinclassError, match="impossible shape"):
        parse_idx(b"\x00\x00\x08\x03" + struct.pack(">3I", 0, 3_036_988_439, 3_037_012_561))
    assert parse_idx(b"\x00\x00\x08\x03" + struct.pack(">3I", 0, 28, 28)).shape == (0, 28, 28)


# ---------------------------------------------------------------- images and labels disagree


def test_image_and_label_counts_disagree(fake_mnist, tmp_path, capsys):
    labels = np.array([0, 1, 2, 3, 4], dtype=np.uint8)
    fake_mnist.write("train_labels", gzip.compress(idx_bytes(labels)), shape=(5,))
    message = "train-images-idx3-ubyte and train-labels-idx1-ubyte disagree: 6 images but 5 labels"
    with pytest.raises(LinclassError, match=message):
        load_mnist(fake_mnist.dir)
    code, _, err = run_cli(train_args(fake_mnist.dir, tmp_path / "run"), capsys)
    assert_one_line_error(code, err, message)
    assert_nothing_left(tmp_path)


def test_label_outside_0_to_9(fake_mnist, tmp_path, capsys):
    labels = np.array([6, 7, 10, 9], dtype=np.uint8)
    fake_mnist.write("test_labels", gzip.compress(idx_bytes(labels)), shape=(4,))
    with pytest.raises(LinclassError, match="t10k-labels-idx1-ubyte: found label 10, expected 0-9"):
        load_mnist(fake_mnist.dir)
    code, _, err = run_cli(train_args(fake_mnist.dir, tmp_path / "run"), capsys)
    assert_one_line_error(code, err, "found label 10")
    assert_nothing_left(tmp_path)


def test_fake_mnist_itself_loads(fake_mnist):
    loaded = load_mnist(fake_mnist.dir)
    np.testing.assert_array_equal(loaded.train_images, fake_mnist.arrays["train_images"])
    np.testing.assert_array_equal(loaded.test_labels, fake_mnist.arrays["test_labels"])
