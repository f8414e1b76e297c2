"""Bad input gets one clear error (LinclassError, a ValueError; exit code 2 and one stderr line on the
command line) and leaves nothing behind; downloads and caches are never trusted unless verified.

Every case of the issue, through the Python API and through `linclass.cli.main`. Downloads are served
by an http.server on 127.0.0.1; no test touches any other host.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import zlib
from dataclasses import replace
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from linclass.data import download as data
from linclass.training import EarlyStopping
from linclass.cli import main
from linclass.data import MNIST_FILES, load_mnist, resolve_data_dir
from linclass.data.cache import load_file
from linclass.data.download import download_mnist
from linclass.data.idx import parse_idx, read_idx
from linclass.errors import LinclassError
from linclass.runs import RunConfig
from linclass.models import LogisticRegression, SoftmaxRegression
from linclass.preprocess import binary_split, one_hot, preprocess, ten_class_split
from linclass.training import Trainer


def test_linclass_error_is_a_value_error():
    assert issubclass(LinclassError, ValueError)


# ---------------------------------------------------------------- helpers


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one in-process CLI call; argparse errors exit via SystemExit."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> str:
    """Exit code 2 and exactly one stderr line, 'linclass: error: ...', holding every fragment."""
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("linclass: error:"), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def assert_nothing_left(folder: Path, out_name: str = "run") -> None:
    """No run folder and no temporary leftovers beside it."""
    leftovers = sorted(p.name for p in folder.iterdir()
                       if p.name == out_name or p.name.startswith(f".{out_name}."))
    assert leftovers == [], leftovers


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def train_args(mnist_dir, out, *extra) -> list:
    return ["train", "--model", "logistic", "--epochs", "1", "--data-dir", mnist_dir, "--out", out,
            "--no-progress", *extra]


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


# ---------------------------------------------------------------- 1. data directory


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


# ---------------------------------------------------------------- 2. SHA-256 mismatch


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


# ---------------------------------------------------------------- 3. damaged files


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


# ---------------------------------------------------------------- 4. images and labels disagree


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


# ---------------------------------------------------------------- 5. digits


@pytest.mark.parametrize("digits, message", [
    ((3, 3), "digits must differ; got 3 twice"),
    ((2, 10), "two integers in 0-9"),
    ((-1, 2), "two integers in 0-9"),
    ((2.5, 3), "two integers in 0-9"),
    ((1, 2, 3), "two integers in 0-9"),
    (("a", 2), "two integers in 0-9"),
    (7, "two integers in 0-9"),
])
def test_bad_digits_api(mnist, digits, message):
    with pytest.raises(LinclassError, match=message):
        binary_split(mnist, digits)
    with pytest.raises(LinclassError, match=message):
        RunConfig(model="logistic", digits=digits).resolved()


@pytest.mark.parametrize("digits, message", [
    (("3", "3"), "digits must differ"),
    (("2", "10"), "0-9"),
    (("2", "-1"), ""),
    (("two", "3"), "two"),
])
def test_bad_digits_cli(mnist_dir, tmp_path, capsys, digits, message):
    code, _, err = run_cli(train_args(mnist_dir, tmp_path / "run", "--digits", *digits), capsys)
    assert_one_line_error(code, err, message)
    assert_nothing_left(tmp_path)


def test_selection_that_leaves_no_images(mnist):
    # The first training label is 5 and the first test label is 7: neither is 0 or 1.
    with pytest.raises(LinclassError, match="digits 0 and 1 leave 0 training and 0 validation images"):
        binary_split(mnist, (0, 1), n_train=1, n_val=1)
    with pytest.raises(LinclassError, match="n_train must be between 1 and 60000; got 0"):
        binary_split(mnist, (0, 1), n_train=0)
    with pytest.raises(LinclassError, match="n_val must be between 1 and 10000; got 10001"):
        ten_class_split(mnist, n_val=10001)
    with pytest.raises(LinclassError, match="n_train"):
        ten_class_split(mnist, n_train=2.5)


# ---------------------------------------------------------------- 6. hyperparameters


@pytest.mark.parametrize("kwargs, message", [
    ({"learning_rate": 0}, "learning_rate must be a finite number > 0; got 0"),
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"learning_rate": float("inf")}, "learning_rate"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"learning_rate": None}, "learning_rate"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1; got 0"),
    ({"batch_size": 1.5}, "batch_size"),
    ({"batch_size": "64"}, "batch_size"),
    ({"max_epochs": 0}, "max_epochs must be an integer >= 1; got 0"),
    ({"max_epochs": True}, "max_epochs"),
])
def test_bad_trainer_settings(kwargs, message):
    with pytest.raises(LinclassError, match=message):
        Trainer(**kwargs)


@pytest.mark.parametrize("model", [LogisticRegression, SoftmaxRegression])
@pytest.mark.parametrize("l2_strength", [-1e-3, float("nan"), float("inf"), "0.1", None, True])
def test_bad_l2_strength(model, l2_strength):
    estimator = model(l2_strength=l2_strength)  # scikit-learn convention: __init__ stores, fit checks
    with pytest.raises(LinclassError, match="l2_strength must be a finite number >= 0"):
        estimator.fit(np.ones((8, 2)), np.arange(8) % 2, trainer=Trainer(batch_size=4, max_epochs=1))


@pytest.mark.parametrize("patience", [0, -3, 2.5, "10", True])
def test_bad_patience(patience):
    with pytest.raises(LinclassError, match="patience must be an integer >= 1"):
        EarlyStopping(patience=patience)


def test_negative_l2_in_a_run_config():
    with pytest.raises(LinclassError, match="l2 must be a finite number >= 0"):
        RunConfig(l2=-0.5).resolved()


def test_batch_larger_than_the_training_set():
    X, y = np.ones((10, 3)), np.arange(10) % 2
    with pytest.raises(LinclassError, match="batch_size must be at most the 10 training rows; got 11"):
        LogisticRegression().fit(X, y, trainer=Trainer(batch_size=11))


@pytest.mark.parametrize("option, value, message", [
    ("--lr", "0", "--lr"),
    ("--lr", "-0.5", "--lr"),
    ("--lr", "nan", "--lr"),
    ("--lr", "inf", "--lr"),
    ("--lr", "fast", "--lr"),
    ("--batch-size", "0", "--batch-size"),
    ("--batch-size", "1.5", "--batch-size"),
    ("--epochs", "0", "--epochs"),
    ("--epochs", "ten", "--epochs"),
    ("--l2", "-0.01", "--l2"),
    ("--l2", "nan", "--l2"),
    ("--patience", "0", "--patience"),
    ("--patience", "x", "--patience"),
    ("--seed", "abc", "--seed"),
])
def test_bad_option_values_cli(mnist_dir, tmp_path, capsys, option, value, message):
    code, _, err = run_cli(train_args(mnist_dir, tmp_path / "run", option, value), capsys)
    assert_one_line_error(code, err, message)
    assert_nothing_left(tmp_path)


def test_batch_larger_than_the_training_set_cli(mnist_dir, tmp_path, capsys):
    code, _, err = run_cli(train_args(mnist_dir, tmp_path / "run", "--batch-size", "5000"), capsys)
    assert_one_line_error(code, err, "batch_size must be at most the 4005 training rows; got 5000")
    assert_nothing_left(tmp_path)


def test_batch_larger_than_the_training_set_cli_exit_code(mnist_dir, tmp_path, capsys):
    """What already holds of the case above: exit 2, the error on the last line, nothing left."""
    code, _, err = run_cli(train_args(mnist_dir, tmp_path / "run", "--batch-size", "5000"), capsys)
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("linclass: error: batch_size must be at most")
    assert_nothing_left(tmp_path)


# ---------------------------------------------------------------- 8. output folder


def test_existing_output_folder_is_refused_unless_force(mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run_cli(train_args(mnist_dir, out), capsys)
    assert_one_line_error(code, err, "already exists", "--force")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    code, _, err = run_cli(train_args(mnist_dir, out, "--force"), capsys)
    assert code == 0, err
    assert (out / "weights.npz").is_file() and not (out / "keep.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_force_keeps_the_old_folder_when_the_run_fails(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run_cli(train_args(tmp_path / "nowhere", out, "--force"), capsys)
    assert_one_line_error(code, err, "does not exist")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_output_folder_that_cannot_be_written(mnist_dir, tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    code, _, err = run_cli(train_args(mnist_dir, tmp_path / "a-file" / "run"), capsys)
    assert_one_line_error(code, err, "cannot write")
    assert (tmp_path / "a-file").read_text() == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_output_folder_in_a_read_only_folder(mnist_dir, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run_cli(train_args(mnist_dir, locked / "run"), capsys)
        assert_one_line_error(code, err, "cannot write")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


# ---------------------------------------------------------------- 9. evaluate on something that is not a run


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("finished") / "run"
    assert main([str(a) for a in train_args(mnist_dir, out)]) == 0
    return out


@pytest.fixture
def run_copy(finished_run, tmp_path):
    copy = tmp_path / "run-copy"
    shutil.copytree(finished_run, copy)
    return copy


def test_evaluate_on_a_folder_that_is_not_a_run(tmp_path, mnist_dir, capsys):
    code, _, err = run_cli(["evaluate", tmp_path / "absent", "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "is not a folder")
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(["evaluate", tmp_path / "empty", "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "is not a complete linclass run", "weights.npz")
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(["evaluate", tmp_path / "file", "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "is not a folder")


def test_evaluate_on_a_finished_run_works(finished_run, mnist_dir, capsys):
    code, out, err = run_cli(["evaluate", finished_run, "--data-dir", mnist_dir], capsys)
    assert code == 0, err
    assert "validation accuracy" in out


def _npz(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


DAMAGED_WEIGHTS = {
    "garbage bytes": (b"this is not a zip file at all", "is damaged"),
    "empty file": (b"", "is damaged"),
    "truncated archive": (lambda good: good[: len(good) // 2], "is damaged"),
    "no weights array": (_npz(other=np.zeros((785, 1))), "is damaged"),
    "wrong shape": (_npz(weights=np.zeros((784, 1))),
                    "shape (784, 1); expected finite floats of shape (785, 1)"),
    "softmax shape for a logistic run": (_npz(weights=np.zeros((785, 10))), "expected finite floats of shape"),
    "integer weights": (_npz(weights=np.zeros((785, 1), dtype=np.int64)), "expected finite floats"),
    "NaN weights": (_npz(weights=np.full((785, 1), np.nan)), "expected finite floats"),
    "object array": (_npz(weights=np.array([None] * 785, dtype=object).reshape(785, 1)), "is damaged"),
}


@pytest.mark.parametrize("case", DAMAGED_WEIGHTS)
def test_evaluate_with_damaged_weights(run_copy, mnist_dir, capsys, case):
    payload, message = DAMAGED_WEIGHTS[case]
    weights = run_copy / "weights.npz"
    if callable(payload):
        payload = payload(weights.read_bytes())
    weights.write_bytes(payload)
    code, _, err = run_cli(["evaluate", run_copy, "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "weights.npz", message)


def test_evaluate_with_a_npy_file_as_weights(run_copy, mnist_dir, capsys):
    with open(run_copy / "weights.npz", "wb") as handle:
        np.save(handle, np.zeros((785, 1)))
    code, _, err = run_cli(["evaluate", run_copy, "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "weights.npz", "is damaged")


@pytest.mark.parametrize("name, payload, message", [
    ("config.json", "{not json", "damaged run files"),
    ("config.json", json.dumps({"model": "logistic", "learning_rate": 0.1, "colour": "red"}), "unknown keys"),
    ("history.json", "[]", "damaged run files"),
    ("metrics.json", "", "damaged run files"),
])
def test_evaluate_with_damaged_json(run_copy, mnist_dir, capsys, name, payload, message):
    (run_copy / name).write_text(payload)
    code, _, err = run_cli(["evaluate", run_copy, "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, message)


# ---------------------------------------------------------------- 10. inputs to fit and predict


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    X[:, -1] = 1.0
    y = (X[:, 0] > 0).astype(np.int64)
    y10 = rng.integers(0, 10, size=40)
    return SimpleNamespace(X=X, y=y, y10=y10, trainer=lambda: Trainer(batch_size=8, max_epochs=2))


def _with(X, row, col, value):
    X = X.copy()
    X[row, col] = value
    return X


BAD_FEATURES = [
    ("ragged list", lambda X: X.tolist()[:-1] + [[1.0]], r"must be an \(N, D\) array of numbers; got a list"),
    ("1-D", lambda X: X[:, 0], r"must be a non-empty \(N, D\) array; got shape \(40,\)"),
    ("3-D", lambda X: X[:, :, None], r"\(N, D\)"),
    ("no rows", lambda X: X[:0], r"non-empty"),
    ("no columns", lambda X: X[:, :0], r"non-empty"),
    ("int", lambda X: X.astype(np.int64), "must be float32 or float64; got int64"),
    ("uint8 images", lambda X: (X * 10).astype(np.uint8), "preprocess"),
    ("float16", lambda X: X.astype(np.float16), "float16"),
    ("complex", lambda X: X.astype(np.complex128), "complex128"),
    ("object", lambda X: X.astype(object), "object"),
    ("strings", lambda X: X.astype(str), "float32 or float64"),
    ("NaN", lambda X: _with(X, 3, 1, np.nan), "NaN or infinity"),
    ("+inf", lambda X: _with(X, 0, 0, np.inf), "NaN or infinity"),
    ("-inf", lambda X: _with(X, 39, 4, -np.inf), "NaN or infinity"),
]


@pytest.mark.parametrize("name, bad, message", BAD_FEATURES, ids=[case[0] for case in BAD_FEATURES])
@pytest.mark.parametrize("model_class", [LogisticRegression, SoftmaxRegression])
def test_bad_features_in_fit_and_predict(tiny, model_class, name, bad, message):
    y = tiny.y if model_class is LogisticRegression else tiny.y10
    with pytest.raises(LinclassError, match=message):
        model_class().fit(bad(tiny.X), y, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match=message):
        model_class().fit(tiny.X, y, bad(tiny.X), y, trainer=tiny.trainer())
    model = model_class().fit(tiny.X, y, trainer=tiny.trainer())
    for method in (model.predict, model.predict_proba, model.decision_function):
        with pytest.raises(LinclassError, match=message):
            method(bad(tiny.X))
    with pytest.raises(LinclassError, match=message):
        model.score(bad(tiny.X), y)


def test_predict_with_the_wrong_number_of_features(tiny):
    model = SoftmaxRegression().fit(tiny.X, tiny.y10, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match="X has 784 features; the model expects 5"):
        model.predict(np.zeros((3, 784)))
    with pytest.raises(LinclassError, match="X_val has 4 features"):
        SoftmaxRegression().fit(tiny.X, tiny.y10, tiny.X[:, :4], tiny.y10, trainer=tiny.trainer())


def test_validation_dtype_must_match_training(tiny):
    with pytest.raises(LinclassError, match="X_val is float32 but X is float64"):
        LogisticRegression().fit(tiny.X, tiny.y, tiny.X.astype(np.float32), tiny.y, trainer=tiny.trainer())


@pytest.mark.parametrize("bad, message", [
    (lambda y: y[:-1], r"y must have shape \(40,\) to match X; got \(39,\)"),
    (lambda y: y.reshape(-1, 1), r"y must have shape \(40,\)"),
    (lambda y: y.astype(np.float64), "y must hold integer labels; got dtype float64"),
    (lambda y: y.astype(str), "integer labels"),
])
def test_bad_labels(tiny, bad, message):
    with pytest.raises(LinclassError, match=message):
        LogisticRegression().fit(tiny.X, bad(tiny.y), trainer=tiny.trainer())
    model = LogisticRegression().fit(tiny.X, tiny.y, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match=message):
        model.score(tiny.X, bad(tiny.y))


def test_three_labels_for_the_binary_model(tiny):
    three = np.where(np.arange(40) == 0, 2, tiny.y)  # labels 0, 1, 2
    with pytest.raises(LinclassError, match=r"y must be in \[0, 2\) or hold exactly 2 distinct labels; got 3"):
        LogisticRegression().fit(tiny.X, three, trainer=tiny.trainer())
    model = LogisticRegression().fit(tiny.X, tiny.y, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match=r"y must hold only the classes the model knows, \[0, 1\]; got also \[2\]"):
        model.score(tiny.X, three)


def test_softmax_labels_beyond_its_classes(tiny):
    with pytest.raises(LinclassError, match=r"y must be in \[0, 3\) or hold exactly 3 distinct labels; "
                                            r"got 10 distinct labels, values 0 to 9"):
        SoftmaxRegression(n_classes=3).fit(tiny.X, tiny.y10, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match="y_val must"):
        SoftmaxRegression().fit(tiny.X, tiny.y10, tiny.X, tiny.y10 + 1, trainer=tiny.trainer())


def test_predict_before_fit_says_call_fit(tiny):
    for model in (LogisticRegression(), SoftmaxRegression()):
        for method in (model.predict, model.predict_proba):
            with pytest.raises(LinclassError, match="not fitted yet; call fit first"):
                method(tiny.X)


@pytest.mark.parametrize("images, message", [
    (np.zeros((3, 27, 28), dtype=np.uint8), "images have 756 pixels; expected 784"),
    (np.zeros(784, dtype=np.uint8), r"images must be a numeric \(N, 28, 28\) array"),
    (np.full((2, 28, 28), "a"), "numeric"),
    (np.zeros((2, 28, 28), dtype=object), "numeric"),
])
def test_preprocess_rejects_bad_images(images, message):
    with pytest.raises(LinclassError, match=message):
        preprocess(images)


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 3]), r"labels must be in \[0, 3\); got values from 0 to 3"),
    (np.array([0.0, 1.0]), "integer array"),
    (np.array([[0, 1]]), "integer array"),
])
def test_one_hot_rejects_bad_labels(labels, message):
    with pytest.raises(LinclassError, match=message):
        one_hot(labels, 3)


# ---------------------------------------------------------------- tracebacks only with --debug


def test_debug_shows_the_traceback(tmp_path, capsys):
    with pytest.raises(LinclassError, match="does not exist"):
        main(["--debug", *map(str, train_args(tmp_path / "nowhere", tmp_path / "run"))])
    assert_nothing_left(tmp_path)


def test_console_script_error_has_no_traceback(tmp_path):
    command = [sys.executable, "-m", "linclass.cli", "evaluate", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("linclass: error:")
    command[3:3] = ["--debug"]  # a top-level option, before the command
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" in result.stderr and "LinclassError" in result.stderr


# ---------------------------------------------------------------- downloads from a local server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _DroppingHandler(_QuietHandler):
    """Announces the whole file, sends half of it, and hangs up."""

    def do_GET(self):
        body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def serve(tmp_path):
    """serve(folder, handler) -> 'http://127.0.0.1:PORT/' for a server on the loopback interface only."""
    servers = []

    def start(folder: Path, handler=_QuietHandler) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served_copy(tmp_path, mnist_dir):
    folder = tmp_path / "served"
    folder.mkdir()
    for spec in MNIST_FILES.values():
        shutil.copyfile(mnist_dir / f"{spec.name}.gz", folder / f"{spec.name}.gz")
    return folder


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _verified_files(folder: Path) -> list[str]:
    names = sorted(p.name for p in folder.iterdir())
    by_name = {f"{spec.name}.gz": spec.gz_sha256 for spec in MNIST_FILES.values()}
    for name in names:
        assert sha256((folder / name).read_bytes()) == by_name.get(name), f"unverified file {name} left behind"
    return names


def test_download_fetches_and_verifies_the_four_files(tmp_path, served_copy, serve, mnist):
    target = tmp_path / "cache" / "mnist"
    assert download_mnist(target, mirrors=(serve(served_copy),), progress=False) == target
    assert _verified_files(target) == sorted(f"{spec.name}.gz" for spec in MNIST_FILES.values())
    loaded = load_mnist(target)
    np.testing.assert_array_equal(loaded.test_images, mnist.test_images)


@pytest.mark.parametrize("key", ["train_images", "test_labels"])
def test_download_of_a_corrupted_file_leaves_nothing(tmp_path, served_copy, serve, key):
    spec = MNIST_FILES[key]
    served = served_copy / f"{spec.name}.gz"
    payload = bytearray(served.read_bytes())
    payload[100] ^= 0xFF
    served.write_bytes(bytes(payload))
    target = tmp_path / "target"
    url = serve(served_copy)
    with pytest.raises(LinclassError) as info:
        download_mnist(target, mirrors=(url,), progress=False)
    message = str(info.value)
    assert f"could not download {spec.name}.gz from {url} (SHA-256 mismatch)" in message
    assert "--data-dir" in message and "\n" not in message and len(message) < 300
    names = _verified_files(target)
    assert f"{spec.name}.gz" not in names
    if key == "train_images":  # the first file: nothing at all in the folder
        assert names == []


def test_download_falls_back_to_the_next_mirror(tmp_path, served_copy, serve):
    target = tmp_path / "target"
    download_mnist(target, mirrors=(closed_port_url(), serve(served_copy)), progress=False)
    assert len(_verified_files(target)) == 4


@pytest.mark.parametrize("handler, reason", [(_DroppingHandler, "download interrupted")])
def test_download_cut_off_halfway_leaves_nothing(tmp_path, served_copy, serve, handler, reason):
    target = tmp_path / "target"
    url = serve(served_copy, handler)
    expected = rf"could not download train-images-idx3-ubyte\.gz from {url} \({reason}\)"
    with pytest.raises(LinclassError, match=expected):
        download_mnist(target, mirrors=(url,), progress=False)
    assert _verified_files(target) == []


def test_download_error_is_one_short_line(tmp_path, serve):
    empty = tmp_path / "empty"
    empty.mkdir()
    dead, missing = closed_port_url(), serve(empty)
    with pytest.raises(LinclassError) as info:
        download_mnist(tmp_path / "target", mirrors=(dead, missing), progress=False)
    assert str(info.value) == (
        f"could not download train-images-idx3-ubyte.gz from {dead} (connection refused), "
        f"{missing} (HTTP 404); "
        "copy the four MNIST .gz files into a folder and pass --data-dir or set $LINCLASS_DATA_DIR."
    )
    assert _verified_files(tmp_path / "target") == []


def test_short_reasons_for_network_failures():
    import requests

    resolve = requests.ConnectionError("HTTPSConnectionPool(host='x', port=443): Max retries exceeded "
                                       "(Caused by NameResolutionError(\"Failed to resolve 'x'\"))")
    assert data._short_reason(resolve) == "no network"
    unreachable = requests.ConnectionError("[Errno 101] Network is unreachable")
    assert data._short_reason(unreachable) == "no network"
    assert data._short_reason(requests.ConnectTimeout("timed out")) == "timed out"
    mismatch = ValueError("SHA256 hash of downloaded file (x) does not match the known hash")
    assert data._short_reason(mismatch) == "SHA-256 mismatch"
    assert data._short_reason(PermissionError(13, "Permission denied")) == "Permission denied"


def test_cli_without_data_and_without_network(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LINCLASS_DATA_DIR", raising=False)
    monkeypatch.setenv("LINCLASS_CACHE_DIR", str(tmp_path / "cache"))
    dead = closed_port_url()
    monkeypatch.setattr(data, "MIRRORS", (dead,))
    code, _, err = run_cli(["train", "--model", "logistic", "--out", tmp_path / "run", "--no-progress"], capsys)
    assert_one_line_error(code, err, f"could not download train-images-idx3-ubyte.gz from {dead} "
                                     "(connection refused)", "--data-dir")
    assert_nothing_left(tmp_path)
    assert list((tmp_path / "cache" / "mnist").iterdir()) == []


# ---------------------------------------------------------------- the decoded-array cache


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


class _SlowHandler(_QuietHandler):
    """Sends each file in small pieces, slowly enough to be interrupted."""

    def do_GET(self):
        body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for start in range(0, len(body), 1 << 16):
                self.wfile.write(body[start:start + (1 << 16)])
                threading.Event().wait(0.02)
        except OSError:
            pass  # the client went away


_DOWNLOADER = """
import sys
from pathlib import Path
from linclass.data.download import download_mnist
download_mnist(Path(sys.argv[1]), mirrors=(sys.argv[2],), progress=False)
"""


def test_killed_download_leaves_no_file_that_is_trusted(tmp_path, served_copy, serve):
    target, url = tmp_path / "target", serve(served_copy, _SlowHandler)
    downloader = subprocess.Popen([sys.executable, "-c", _DOWNLOADER, str(target), url])
    try:
        downloader.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        downloader.kill()
        downloader.wait()
    assert downloader.returncode != 0, "the download finished before it could be interrupted"
    if target.exists():
        _verified_files_among(target)  # only complete, verified files carry the final name
    download_mnist(target, mirrors=(serve(served_copy),), progress=False)
    assert len([p for p in target.iterdir() if p.suffix == ".gz"]) == 4
    assert len(_verified_files_among(target)) == 4


def _verified_files_among(folder: Path) -> list[str]:
    """The .gz files of folder, each checked against its SHA-256 (pooch's stray temporaries ignored)."""
    by_name = {f"{spec.name}.gz": spec.gz_sha256 for spec in MNIST_FILES.values()}
    names = sorted(p.name for p in folder.glob("*.gz"))
    for name in names:
        assert sha256((folder / name).read_bytes()) == by_name[name]
    return names


def test_two_processes_downloading_at_once(tmp_path, served_copy, serve, mnist):
    target, url = tmp_path / "target", serve(served_copy)
    downloaders = [subprocess.Popen([sys.executable, "-c", _DOWNLOADER, str(target), url],
                                    stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for downloader in downloaders:
        _, err = downloader.communicate(timeout=300)
        assert downloader.returncode == 0, err
    assert _verified_files(target) == sorted(f"{spec.name}.gz" for spec in MNIST_FILES.values())
    np.testing.assert_array_equal(load_mnist(target).train_labels, mnist.train_labels)
