"""Fashion-MNIST against the facts of its README, payload verification of re-compressed files, the
dataset registry, RunConfig's dataset fields and old config.json files."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

import linclass.data.cache as cache_module
from linclass.data import DATASETS, FASHION_MNIST_FILES, dataset_source, load_dataset, load_mnist
from linclass.data.cache import load_file
from linclass.errors import LinclassError
from linclass.preprocess import binary_split, ten_class_split
from linclass.runs import RunConfig

from errors_support import sha256

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")


def test_fashion_mnist_matches_its_readme(fashion):
    assert fashion.name == "fashion-mnist"
    assert fashion.train_images.shape == (60000, 28, 28) and fashion.test_images.shape == (10000, 28, 28)
    pixels = fashion.train_images.astype(np.float64)
    assert pixels.mean() == pytest.approx(72.9404, abs=5e-5)
    assert pixels.std() == pytest.approx(90.0212, abs=5e-5)
    np.testing.assert_array_equal(np.bincount(fashion.train_labels, minlength=10), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(fashion.test_labels, minlength=10), [1000] * 10)
    np.testing.assert_array_equal(fashion.train_labels[:5], [9, 0, 0, 3, 0])
    np.testing.assert_array_equal(fashion.test_labels[:5], [9, 2, 1, 1, 6])
    assert dataset_source("fashion-mnist").class_names == CLASS_NAMES


def test_mnist_is_still_mnist(mnist):
    assert mnist.name == "mnist" and load_mnist is not None
    np.testing.assert_array_equal(mnist.train_labels[:5], [5, 0, 4, 1, 9])


def test_the_registry_names_each_dataset_its_variable_and_pair():
    assert set(DATASETS) == {"mnist", "fashion-mnist"}
    fashion = DATASETS["fashion-mnist"]
    assert fashion.env_var == "LINCLASS_FASHION_MNIST_DIR" and fashion.cache_subdir == "fashion-mnist"
    assert [fashion.class_label(c) for c in fashion.default_classes] == ["Shirt", "T-shirt/top"]
    assert DATASETS["mnist"].class_label(2) == "digit 2"
    with pytest.raises(LinclassError, match="dataset must be one of mnist, fashion-mnist; got 'cifar'"):
        load_dataset("cifar")


# ---------------------------------------------------------------- payload verification

def _recompressed(source, target, level: int = 1, damage: bool = False) -> bytes:
    """target: source's payload gzip-compressed anew (other bytes), one byte changed when damage."""
    payload = bytearray(gzip.decompress(source.read_bytes()))
    if damage:
        payload[-1] = (payload[-1] + 1) % 10
    target.write_bytes(gzip.compress(bytes(payload), compresslevel=level, mtime=0))
    return bytes(payload)


def test_a_recompressed_file_is_verified_by_its_payload_and_remembered(fashion_dir, tmp_path, monkeypatch):
    spec = FASHION_MNIST_FILES["train_labels"]
    path = tmp_path / f"{spec.name}.gz"
    _recompressed(fashion_dir / path.name, path, level=1)
    assert sha256(path.read_bytes()) != sha256((fashion_dir / path.name).read_bytes())
    cache = tmp_path / "cache"
    labels = load_file(path, spec, cache, "fashion-mnist/decoded")
    np.testing.assert_array_equal(labels[:5], [9, 0, 0, 3, 0])
    marker = cache / "fashion-mnist" / "verified" / f"{sha256(path.read_bytes())}.json"
    assert marker.is_file()

    def no_decompressing(*args):
        raise AssertionError("a cached load decompressed the file")

    monkeypatch.setattr(cache_module, "decompress", no_decompressing)
    np.testing.assert_array_equal(load_file(path, spec, cache, "fashion-mnist/decoded"), labels)


def test_a_damaged_payload_is_refused_with_expected_and_found(fashion_dir, tmp_path):
    spec = FASHION_MNIST_FILES["train_labels"]
    path = tmp_path / f"{spec.name}.gz"
    damaged = _recompressed(fashion_dir / path.name, path, damage=True)
    with pytest.raises(LinclassError) as error:
        load_file(path, spec, tmp_path / "cache", "fashion-mnist/decoded")
    message = str(error.value)
    assert f"expected {spec.raw_sha256}, found {sha256(damaged)}" in message
    assert "decompressed payload" in message and "\n" not in message
    assert not (tmp_path / "cache" / "fashion-mnist" / "verified").exists()


def test_a_damaged_uncompressed_file_is_refused_without_naming_another_dataset(fashion_dir, tmp_path):
    spec = FASHION_MNIST_FILES["test_labels"]
    payload = bytearray(gzip.decompress((fashion_dir / f"{spec.name}.gz").read_bytes()))
    payload[-1] ^= 0x01
    path = tmp_path / spec.name
    path.write_bytes(bytes(payload))
    with pytest.raises(LinclassError) as error:
        load_file(path, spec, tmp_path / "cache", "fashion-mnist/decoded")
    message = str(error.value)
    assert f"SHA-256 mismatch (expected {spec.raw_sha256}, found {sha256(bytes(payload))})" in message
    assert "replace it with the original" in message and "MNIST" not in message and "\n" not in message


def test_a_folder_of_the_other_dataset_is_named(mnist_dir, fashion_dir, tmp_path):
    """Each dataset's files given for the other: said so, with the option that loads them (it was 'SHA-256
    mismatch ... the file is damaged', with advice to delete it)."""
    with pytest.raises(LinclassError, match=r"train-images-idx3-ubyte.gz is MNIST's train-images-idx3-ubyte, not "
                                            r"Fashion-MNIST's: this folder holds MNIST; use --dataset mnist"):
        load_dataset("fashion-mnist", mnist_dir, cache=False)
    with pytest.raises(LinclassError, match=r"is Fashion-MNIST's train-images-idx3-ubyte, not MNIST's: .* use "
                                            r"--dataset fashion-mnist for it, or give MNIST's folder"):
        load_dataset("mnist", fashion_dir, cache=False)
    swapped = tmp_path / "swapped"
    shutil.copytree(mnist_dir, swapped)
    shutil.copy(mnist_dir / "t10k-labels-idx1-ubyte.gz", swapped / "train-labels-idx1-ubyte.gz")
    with pytest.raises(LinclassError, match="holds t10k-labels-idx1-ubyte, not train-labels-idx1-ubyte: the files "
                                            "were renamed or swapped"):
        load_dataset("mnist", swapped, cache=False)


def test_the_environment_variable_points_at_fashion_mnist(fashion_dir, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(fashion_dir, copy)
    monkeypatch.setenv("LINCLASS_FASHION_MNIST_DIR", str(copy))
    assert load_dataset("fashion-mnist").test_labels[:5].tolist() == [9, 2, 1, 1, 6]
    monkeypatch.setenv("LINCLASS_FASHION_MNIST_DIR", str(tmp_path / "missing"))
    with pytest.raises(LinclassError, match="LINCLASS_FASHION_MNIST_DIR .* does not exist"):
        load_dataset("fashion-mnist")


# ---------------------------------------------------------------- splits and classes

def test_the_two_class_split_takes_any_pair_by_number_or_name(fashion):
    by_name = binary_split(fashion, ("coat", "Pullover"), n_train=3000, n_val=1000)
    by_number = binary_split(fashion, (4, 2), n_train=3000, n_val=1000)
    np.testing.assert_array_equal(by_name.X_train, by_number.X_train)
    assert by_name.class_names == ("Pullover", "Coat")
    assert "Coat (target 1) vs Pullover (target 0) of Fashion-MNIST" in by_name.description
    keep = np.isin(fashion.train_labels[:3000], (2, 4))
    np.testing.assert_array_equal(by_name.y_train, fashion.train_labels[:3000][keep] == 4)
    assert binary_split(fashion, n_train=500, n_val=500).class_names == ("T-shirt/top", "Shirt")


@pytest.mark.parametrize("classes, message", [
    (("Shirt", "shirt"), "classes must differ; got Shirt twice"),
    ((3, 10), "two integers in 0-9 or two class names (T-shirt/top"),
    (("Shirt", "Hat"), "got Shirt, Hat"),
    ((6,), "two integers in 0-9"),
])
def test_bad_classes_are_refused(fashion, classes, message):
    with pytest.raises(LinclassError, match=message.replace("(", r"\(").replace(")", r"\)")):
        binary_split(fashion, classes)
    with pytest.raises(LinclassError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RunConfig(model="logistic", dataset="fashion-mnist", classes=classes).resolved()


def test_ten_class_split_names_its_classes(fashion):
    split = ten_class_split(fashion, n_train=100, n_val=100)
    assert split.class_names == CLASS_NAMES and split.X_test is None
    assert split.description.startswith("ten classes of Fashion-MNIST")


# ---------------------------------------------------------------- RunConfig

def test_run_config_records_only_what_applies():
    softmax = RunConfig(dataset="fashion-mnist").resolved().to_json()
    assert "classes" not in softmax and "digits" not in softmax
    assert softmax["dataset"] == "fashion-mnist" and softmax["protocol"] == "assignment"
    assert softmax["train_size"] == 20000
    logistic = RunConfig(model="logistic", dataset="fashion-mnist").resolved()
    assert logistic.classes == (6, 0) and logistic.digits == (6, 0) and logistic.to_json()["classes"] == [6, 0]
    assert RunConfig(model="logistic").resolved().classes == (2, 3)
    assert RunConfig.from_json(logistic.to_json()).resolved() == logistic


def test_old_config_files_with_digits_and_n_train_still_load():
    old = {"model": "softmax", "digits": [2, 3], "learning_rate": 0.01, "batch_size": 128, "epochs": 50,
           "l2": 0.0, "penalize_bias": True, "shuffle": True, "patience": 10, "seed": 0, "dtype": "float64",
           "n_train": 20000, "n_val": 10000}
    softmax = RunConfig.from_json(old).resolved()
    assert softmax.classes is None and softmax.train_size == 20000 and softmax.dataset == "mnist"
    logistic = RunConfig.from_json({**old, "model": "logistic", "digits": [7, 1]}).resolved()
    assert logistic.classes == (7, 1) and logistic.protocol == "assignment"
    with pytest.raises(LinclassError, match="old and its new name"):
        RunConfig.from_json({**old, "classes": [2, 3]})
