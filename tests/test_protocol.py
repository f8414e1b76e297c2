"""The holdout protocol: which images each set holds, the test set read only after training, the test
block of a run folder, --train-size limits, and bad input on the command line (one line, exit 2)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from linclass.cli import main
from linclass.preprocess import binary_split, ten_class_split
from linclass.runs import RunConfig, held_out_metrics, make_split, train

from errors_support import assert_nothing_left, assert_one_line_error, run_cli


def test_holdout_sets_are_disjoint_and_where_the_protocol_says(fashion):
    split = ten_class_split(fashion, n_train=1000, n_val=10000, protocol="holdout")
    assert split.protocol == "holdout"
    np.testing.assert_array_equal(split.y_train, fashion.train_labels[:1000])
    np.testing.assert_array_equal(split.y_val, fashion.train_labels[50000:60000])
    np.testing.assert_array_equal(split.y_test, fashion.test_labels)
    pixels = np.rint((split.X_val[:, :-1] + 1) * 127.5).astype(np.uint8).reshape(-1, 28, 28)
    np.testing.assert_array_equal(pixels, fashion.train_images[50000:60000])
    assert ten_class_split(fashion, n_train=1000, n_val=100).X_test is None  # assignment: no test set
    pair = binary_split(fashion, n_train=1000, n_val=10000, protocol="holdout")
    assert len(pair.y_test) == 2000 and set(np.unique(pair.y_test)) == {0, 1}


def test_assignment_split_is_unchanged_by_the_protocol_option(mnist):
    default = ten_class_split(mnist, n_train=500, n_val=300)
    explicit = ten_class_split(mnist, n_train=500, n_val=300, protocol="assignment")
    assert default.X_train.tobytes() == explicit.X_train.tobytes()
    np.testing.assert_array_equal(default.y_val, mnist.test_labels[:300])


def test_training_never_reads_the_test_set(fashion):
    """Bit-identical weights and history whatever the test images hold; only the test block changes."""
    config = RunConfig(dataset="fashion-mnist", protocol="holdout", train_size=2000, n_val=1000,
                       max_epochs=2).resolved()
    rng = np.random.default_rng(0)
    noise = replace(fashion, test_images=rng.integers(0, 256, fashion.test_images.shape, dtype=np.uint8),
                    test_labels=rng.integers(0, 10, fashion.test_labels.shape, dtype=np.uint8))
    models, tests = [], []
    for data in (fashion, noise):
        split = make_split(config, data)
        models.append(train(config, split))
        tests.append(held_out_metrics(models[-1], split))
    assert models[0].weights_.tobytes() == models[1].weights_.tobytes()
    assert models[0].history_ == models[1].history_
    assert tests[0]["n_test_images"] == 10000 and tests[0]["test_accuracy"] > 0.6
    assert tests[1]["test_accuracy"] < 0.2  # noise with random labels: about chance


def test_train_under_holdout_writes_a_test_block(fashion_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "fashion-mnist", "--protocol", "holdout", "--train-size", "3000",
                 "--epochs", "1", "--no-progress", "--data-dir", str(fashion_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "10000 test images held out until training ends" in printed and "held-out test (kept)" in printed
    config = json.loads((out / "config.json").read_text())
    assert (config["dataset"], config["protocol"], config["train_size"]) == ("fashion-mnist", "holdout", 3000)
    test = json.loads((out / "metrics.json").read_text())["test"]
    assert test["n_test_images"] == 10000 and 0.5 < test["test_accuracy"] < 1
    assert main(["evaluate", str(out), "--split", "test", "--data-dir", str(fashion_dir)]) == 0
    evaluation = json.loads((out / "evaluation" / "test" / "evaluation.json").read_text())
    assert evaluation["accuracy"] == test["test_accuracy"]
    assert "Shirt" in capsys.readouterr().out  # classes by name


def test_train_under_assignment_writes_no_test_block(mnist_dir, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--model", "logistic", "--classes", "7", "1", "--epochs", "1", "--no-progress",
                 "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    assert "test" not in json.loads((out / "metrics.json").read_text())


@pytest.mark.parametrize("protocol, size, ok", [("holdout", 50000, True), ("holdout", 50001, False),
                                                ("assignment", 60000, True), ("assignment", 60001, False)])
def test_train_size_limits(protocol, size, ok):
    config = RunConfig(protocol=protocol, train_size=size)
    if ok:
        assert config.resolved().train_size == size
    else:
        with pytest.raises(ValueError, match=f"train_size must be between 1 and {size - 1}"):
            config.resolved()


# ---------------------------------------------------------------- bad input on the command line

@pytest.mark.parametrize("extra, fragments", [
    (["--dataset", "cifar"], ["--dataset", "invalid choice: 'cifar'"]),
    (["--dataset", "fashion-mnist", "--classes", "3", "10"], ["--classes must be two integers in 0-9", "got 3, 10."]),
    (["--dataset", "fashion-mnist", "--classes", "Shirt", "shirt"], ["classes must differ; got Shirt twice"]),
    (["--classes", "2", "2"], ["classes must differ; got 2 twice"]),
    (["--dataset", "fashion-mnist", "--digits", "6", "0"], ["--digits names two MNIST digits", "--classes"]),
    (["--model", "softmax", "--classes", "6", "0"], ["--classes chooses the two classes", "--model logistic"]),
    (["--protocol", "holdout", "--train-size", "50001"],
     ["--train-size must be between 1 and 50000 under the holdout protocol", "got 50001"]),
    (["--train-size", "60001"], ["--train-size must be between 1 and 60000", "got 60001"]),
    (["--train-size", "0"], ["--train-size", "expected an integer >= 1"]),
    (["--protocol", "exam"], ["--protocol", "invalid choice: 'exam'"]),
])
def test_bad_input_is_one_line_and_exit_2(mnist_dir, tmp_path, capsys, extra, fragments):
    args = ["train", "--model", "logistic", "--epochs", "1", "--no-progress", "--data-dir", mnist_dir,
            "--out", tmp_path / "run", *extra]
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, *fragments)
    assert_nothing_left(tmp_path)


def test_evaluate_refuses_a_run_of_the_other_dataset(mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "logistic", "--epochs", "1", "--no-progress", "--data-dir", str(mnist_dir),
                 "--out", str(out)]) == 0
    capsys.readouterr()
    code, _, err = run_cli(["evaluate", out, "--dataset", "fashion-mnist"], capsys)
    assert_one_line_error(code, err, "was trained on MNIST, not Fashion-MNIST")
    assert not (out / "evaluation").exists()


def test_reproduce_refuses_bad_options_before_writing(tmp_path, capsys):
    for extra, fragment in ((["--dataset", "fashion-mnist", "--classes", "Shirt", "Hat"],
                             "--classes must be two integers in 0-9 or two class names"),
                            (["--protocol", "holdout", "--train-size", "55000"], "under the holdout protocol")):
        code, _, err = run_cli(["reproduce", "--out", tmp_path / "run", "--no-progress", *extra], capsys)
        assert_one_line_error(code, err, fragment)
        assert_nothing_left(tmp_path)
