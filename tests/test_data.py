"""IDX reader on files the tests write, and the MNIST loader and splits on real MNIST."""

from __future__ import annotations

import gzip
import shutil
import struct

import numpy as np
import pytest

from linclass.data import MNIST_FILES, load_mnist, resolve_data_dir
from linclass.data.idx import read_idx
from linclass.errors import LinclassError
from linclass.preprocess import binary_split, preprocess, ten_class_split


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def images():
    return np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)


def test_reads_raw_and_gzip_idx(tmp_path, images):
    raw, packed = tmp_path / "images-idx3-ubyte", tmp_path / "images-idx3-ubyte.gz"
    raw.write_bytes(idx_bytes(images))
    packed.write_bytes(gzip.compress(idx_bytes(images)))
    for path in (raw, packed):
        array = read_idx(path)
        assert array.dtype == np.uint8 and array.shape == (3, 4, 5)
        np.testing.assert_array_equal(array, images)
    labels = np.array([5, 0, 4], dtype=np.uint8)
    (tmp_path / "labels").write_bytes(idx_bytes(labels))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), labels)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b"\x00\x00\x09\x03" + b[4:], "magic"),          # not unsigned bytes
    (lambda b: b"\x01\x00\x08\x03" + b[4:], "magic"),          # non-zero leading bytes
    (lambda b: b[:-1], "truncated or damaged"),                 # one pixel short
    (lambda b: b + b"\x00", "truncated or damaged"),            # one byte too many
    (lambda b: b[:4] + struct.pack(">I", 4) + b[8:], "truncated or damaged"),  # count disagrees
    (lambda b: b[:10], "header is truncated"),
    (lambda b: b[:2], "too short"),
])
def test_rejects_malformed_idx(tmp_path, images, mutate, message):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(mutate(idx_bytes(images)))
    with pytest.raises(LinclassError, match=message):
        read_idx(path)


def test_rejects_truncated_gzip(tmp_path, images):
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(idx_bytes(images))[:-10])
    with pytest.raises(LinclassError, match="gzip"):
        read_idx(path)


def test_real_mnist_matches_published_facts(mnist):
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.test_images.shape == (10000, 28, 28)
    assert mnist.train_images.dtype == np.uint8 and mnist.train_labels.dtype == np.uint8
    assert mnist.train_labels[0] == 5
    assert mnist.train_images.mean() == pytest.approx(33.3184, abs=1e-4)
    assert mnist.train_images.std() == pytest.approx(78.5675, abs=1e-4)


def test_cached_load_is_identical(mnist_dir, mnist):
    again = load_mnist(mnist_dir)
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        np.testing.assert_array_equal(getattr(again, name), getattr(mnist, name))


def test_split_sizes_match_the_report(mnist):
    binary = binary_split(mnist)
    assert binary.X_train.shape == (4005, 785) and binary.X_val.shape == (2042, 785)
    assert set(np.unique(binary.y_train)) == {0, 1}
    expected_twos = np.sum(mnist.train_labels[:20000] == 2)
    assert binary.y_train.sum() == expected_twos  # target 1 is the first digit
    ten = ten_class_split(mnist)
    assert ten.X_train.shape == (20000, 785) and ten.X_val.shape == (10000, 785)
    np.testing.assert_array_equal(ten.y_val, mnist.test_labels)


def test_other_digit_pair_and_sizes(mnist):
    split = binary_split(mnist, (7, 1), n_train=1000, n_val=500)
    labels = mnist.train_labels[:1000]
    assert len(split.y_train) == np.sum((labels == 7) | (labels == 1))
    assert split.y_train.sum() == np.sum(labels == 7)


def test_preprocessing_scales_to_unit_range_with_bias(mnist):
    X = preprocess(mnist.train_images[:100])
    assert X.shape == (100, 785) and X.dtype == np.float64
    assert X[:, :-1].min() == -1.0 and X[:, :-1].max() == 1.0
    np.testing.assert_array_equal(X[:, -1], 1.0)
    np.testing.assert_allclose(X[:, :-1], mnist.train_images[:100].reshape(100, -1) / 127.5 - 1)
    assert preprocess(mnist.train_images[:3], dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("digits, message", [((3, 3), "differ"), ((2, 10), "0-9"), (("a", 2), "integers")])
def test_bad_digit_pairs(mnist, digits, message):
    with pytest.raises(LinclassError, match=message):
        binary_split(mnist, digits)


def test_data_dir_lookup_errors(tmp_path, mnist_dir, monkeypatch):
    with pytest.raises(LinclassError, match="does not exist"):
        resolve_data_dir(tmp_path / "nowhere")
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(mnist_dir / "train-labels-idx1-ubyte.gz", partial)
    with pytest.raises(LinclassError, match="lacks train-images-idx3-ubyte"):
        resolve_data_dir(partial)
    monkeypatch.setenv("LINCLASS_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(LinclassError, match="LINCLASS_DATA_DIR"):
        resolve_data_dir()


def test_checksum_mismatch_names_file_and_hashes(tmp_path, mnist_dir):
    copy = tmp_path / "mnist"
    shutil.copytree(mnist_dir, copy)
    target = copy / "t10k-labels-idx1-ubyte.gz"
    target.chmod(0o644)
    payload = bytearray(target.read_bytes())
    payload[-1] ^= 0xFF
    target.write_bytes(bytes(payload))
    with pytest.raises(LinclassError) as info:
        load_mnist(copy)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and MNIST_FILES["test_labels"].gz_sha256 in message
    assert "SHA-256 mismatch" in message


def test_uncompressed_files_are_verified_by_payload_hash(tmp_path, mnist_dir):
    folder = tmp_path / "raw"
    folder.mkdir()
    for spec in MNIST_FILES.values():
        (folder / spec.name).write_bytes(gzip.decompress((mnist_dir / f"{spec.name}.gz").read_bytes()))
    mnist = load_mnist(folder)
    assert mnist.test_labels.shape == (10000,)
