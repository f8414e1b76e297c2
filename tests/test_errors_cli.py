"""Bad options on the command line: exit code 2 and one stderr line, nothing written; tracebacks only with
--debug."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from linclass.cli import main
from linclass.errors import LinclassError

from errors_support import assert_nothing_left, assert_one_line_error, run_cli, train_args


# ---------------------------------------------------------------- digits


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


# ---------------------------------------------------------------- option values


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


def test_batch_larger_than_the_training_set_cli_prints_nothing_else(mnist_dir, tmp_path, capsys):
    """The error is all the command prints: no header of a training that never starts."""
    code, out, err = run_cli(train_args(mnist_dir, tmp_path / "run", "--batch-size", "5000"), capsys)
    assert code == 2 and out == "" and "Traceback" not in err
    assert_nothing_left(tmp_path)


@pytest.mark.parametrize("argv, help_of", [
    (["train", "--modle", "softmax"], "linclass train --help"),
    (["evaluate", "runs/x", "--splt", "val"], "linclass evaluate --help"),
    (["--nonsense"], "linclass --help"),
])
def test_an_unknown_option_points_to_its_subcommands_help(tmp_path, capsys, argv, help_of):
    code, out, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, "unrecognized arguments" if argv[0] != "--nonsense" else "", f"(see '{help_of}')")
    assert out == ""


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


def test_a_ctrl_c_after_the_run_was_written_says_so(mnist_dir, tmp_path, capsys, monkeypatch):
    """A Ctrl-C between publishing the folder and the last line used to print 'nothing was written' over a
    complete run."""
    import linclass.cli.train as train_command

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_command, "_print_run", interrupted)
    code, _, err = run_cli(train_args(mnist_dir, tmp_path / "run"), capsys)
    assert code == 130 and err.strip() == f"linclass: interrupted; {tmp_path / 'run'}/ had been written (complete)"
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "complete"
    monkeypatch.setattr(train_command, "_train_into", interrupted)  # before anything is written
    code, _, err = run_cli(train_args(mnist_dir, tmp_path / "other"), capsys)
    assert code == 130 and err.strip() == "linclass: interrupted; nothing was written"
