"""The command line: train writes a run folder, evaluate reloads it, errors are one line with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from linclass.cli import main


def test_train_then_evaluate(tmp_path, mnist_dir, capsys):
    out = tmp_path / "run"
    code = main(["train", "--model", "logistic", "--epochs", "3", "--data-dir", str(mnist_dir),
                 "--out", str(out), "--no-progress"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "history.json", "metrics.json", "status.json", "weights.npz"]
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "logistic" and config["learning_rate"] == 0.05 and config["shuffle"] is False
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 3 * (4005 // 128)
    with np.load(out / "weights.npz") as archive:
        assert archive["weights"].shape == (785, 1)
    printed = capsys.readouterr().out
    assert "early stopping did not fire" in printed and str(out) in printed

    assert main(["evaluate", str(out), "--data-dir", str(mnist_dir)]) == 0
    printed = capsys.readouterr().out
    assert f"validation accuracy {metrics['best']['val_accuracy']:.6f}" in printed


def test_softmax_defaults_and_options(tmp_path, mnist_dir):
    out = tmp_path / "soft"
    assert main(["train", "--model", "softmax", "--epochs", "1", "--l2", "0.01", "--seed", "4",
                 "--dtype", "float32", "--data-dir", str(mnist_dir), "--out", str(out), "--no-progress"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["learning_rate"] == 0.01 and config["shuffle"] is True and config["l2_strength"] == 0.01
    assert config["seed"] == 4 and config["dtype"] == "float32"


def test_existing_out_is_refused(tmp_path, mnist_dir, capsys):
    out = tmp_path / "run"
    out.mkdir()
    assert main(["train", "--model", "logistic", "--data-dir", str(mnist_dir), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "already exists" in error and "--force" in error and "Traceback" not in error
    assert list(out.iterdir()) == []


def test_console_script_reports_bad_data_dir_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "linclass.cli", "train", "--data-dir", str(tmp_path / "x"),
                             "--out", str(tmp_path / "run")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "does not exist" in result.stderr
    assert not (tmp_path / "run").exists()


def test_no_early_stopping_keeps_and_reports_the_final_weights(tmp_path, mnist_dir, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "logistic", "--digits", "7", "1", "--no-early-stopping", "--epochs", "2",
                 "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "without early stopping" in printed and "final (kept)" in printed and "best" not in printed
    config = json.loads((out / "config.json").read_text())
    assert config["patience"] is None and config["classes"] == [7, 1] and config["dataset"] == "mnist"
    assert json.loads((out / "metrics.json").read_text())["steps"] == 2 * (4374 // 128)
