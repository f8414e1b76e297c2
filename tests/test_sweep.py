"""linclass sweep: lock-step runs equal separate `train` runs to the bit, its outputs, resume, bad grids."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from linclass.cli import main
from linclass.report.plan import Experiment
from linclass.runs import RunConfig
from linclass.sweeps import Grid, lock_step_groups, plan_runs, run_name

from errors_support import run_cli
from test_cli_help import _options

HANG_GUARD_SECONDS = 300  # a hung process fails the test; a slow one does not
# Learning rate 0.5 with λ 0.1 stops early at once; the others run both epochs: lanes leave the group mid-run.
SMALL = ["--lr", "0.05,0.5", "--l2", "0,0.1", "--seeds", "3", "--epochs", "2", "--patience", "3"]


def run_sweep(out, mnist_dir, *options) -> int:
    return main(["sweep", "--out", str(out), "--data-dir", str(mnist_dir), "--no-progress", *options])


def weights_of(folder):
    with np.load(folder / "weights.npz") as archive:
        return archive["weights"]


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("sweep") / "out"
    assert run_sweep(out, mnist_dir, *SMALL) == 0
    return out


def test_runs_equal_separate_train_runs_bit_for_bit(small_sweep, mnist_dir, tmp_path):
    """A mixed learning-rate x λ group ends, run by run, exactly where `linclass train` ends alone."""
    stopped = 0
    for rate in ("0.05", "0.5"):
        for strength in ("0", "0.1"):
            alone = tmp_path / f"{rate}-{strength}"
            assert main(["train", "--lr", rate, "--l2", strength, "--seed", "3", "--epochs", "2", "--patience", "3",
                         "--no-progress", "--data-dir", str(mnist_dir), "--out", str(alone)]) == 0
            folder = small_sweep / "runs" / run_name(float(rate), float(strength), 3)
            for name in ("history.json", "config.json"):
                assert (folder / name).read_bytes() == (alone / name).read_bytes(), (folder, name)
            assert weights_of(folder).tobytes() == weights_of(alone).tobytes()
            metrics = json.loads((folder / "metrics.json").read_text())
            assert metrics["best"] == json.loads((alone / "metrics.json").read_text())["best"]
            stopped += metrics["early_stop"] is not None
            assert len(metrics["lock_step_group"]) == 4  # all four trained together
    assert 0 < stopped < 4  # some lanes left the group early, others did not


def test_outputs_rows_columns_and_figures(small_sweep, mnist_dir, capsys):
    summary = json.loads((small_sweep / "sweep.json").read_text())
    with open(small_sweep / "sweep.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(summary["runs"]) == 4
    assert list(rows[0]) == summary["columns"]
    assert {"learning_rate", "l2_strength", "seed", "stop_step", "best_step", "val_loss", "val_accuracy",
            "test_accuracy", "weight_norm"} <= set(summary["columns"])
    assert {(float(r["learning_rate"]), float(r["l2_strength"])) for r in rows} == {
        (0.05, 0.0), (0.05, 0.1), (0.5, 0.0), (0.5, 0.1)}
    for row, record in zip(rows, summary["runs"]):
        metrics = json.loads((small_sweep / record["run_dir"] / "metrics.json").read_text())
        assert record["val_accuracy"] == metrics["best"]["val_accuracy"] == float(row["val_accuracy"])
        assert record["weight_norm"] == metrics["weight_norm"]
        assert row["test_accuracy"] == "" and record["test_accuracy"] is None  # no test set held out
    assert len(summary["cells"]) == 4
    best = summary["best"]
    assert best["val_accuracy_mean"] == max(cell["val_accuracy_mean"] for cell in summary["cells"])
    assert best["val_accuracy_spread"] == 0.0  # one seed
    for suffix in ("png", "svg"):
        assert (small_sweep / "figures" / f"val_accuracy.{suffix}").stat().st_size > 1000
    assert json.loads((small_sweep / "status.json").read_text())["state"] == "complete"
    assert not list((small_sweep / "runs").glob(".checkpoint-*"))
    # every run folder loads like a `train` run
    assert main(["evaluate", str(small_sweep / "runs" / best["runs"][0]), "--data-dir", str(mnist_dir)]) == 0
    assert f"{best['val_accuracy_mean']:.6f}" in capsys.readouterr().out


def test_prints_the_best_cell_and_means_over_seeds(mnist_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_sweep(out, mnist_dir, "--lr", "0.1", "--l2", "0,0.01", "--seeds", "0,1", "--epochs", "1") == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "sweep.json").read_text())
    cell = summary["best"]
    accuracies = [r["val_accuracy"] for r in summary["runs"] if r["l2_strength"] == cell["l2_strength"]]
    assert len(accuracies) == 2 and cell["val_accuracy_mean"] == pytest.approx(np.mean(accuracies), abs=1e-15)
    assert cell["val_accuracy_spread"] == pytest.approx(max(accuracies) - min(accuracies), abs=1e-15)
    assert re.search(rf"best: lr 0.1, λ {cell['l2_strength']:g}: validation accuracy "
                     rf"{cell['val_accuracy_mean']:.4f} \(mean of 2 seeds", printed)
    assert len(summary["lock_step_groups"]) == 2  # one per seed: seeds change the batch order


@pytest.mark.parametrize("shuffle", ["--no-shuffle", "--shuffle"])
def test_seeds_without_shuffling_are_said_to_be_identical_runs(mnist_dir, tmp_path, capsys, shuffle):
    """Unshuffled, zero-initialised runs do not depend on their seed: the sweep says so (and they are equal)."""
    out = tmp_path / "out"
    assert run_sweep(out, mnist_dir, "--model", "logistic", shuffle, "--lr", "0.1", "--l2", "0", "--seeds", "0,1",
                     "--epochs", "2") == 0
    noted = "the 2 seeds train identical runs" in capsys.readouterr().err
    rows = json.loads((out / "sweep.json").read_text())["runs"]
    identical = rows[0]["val_loss"] == rows[1]["val_loss"] and rows[0]["weight_norm"] == rows[1]["weight_norm"]
    assert noted == identical == (shuffle == "--no-shuffle")


def test_holdout_sweep_reports_test_metrics(mnist_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_sweep(out, mnist_dir, "--protocol", "holdout", "--lr", "0.1", "--l2", "0,0.01", "--epochs", "1") == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["n_test_images"] == 10000 and summary["settings"]["base"]["protocol"] == "holdout"
    for record in summary["runs"]:
        test = json.loads((out / record["run_dir"] / "metrics.json").read_text())["test"]
        assert record["test_accuracy"] == test["test_accuracy"] and record["test_loss"] == test["test_loss"]
    assert f"held-out test accuracy {summary['best']['test_accuracy_mean']:.4f}" in printed


def test_groups_share_a_batch_order_and_split_for_jobs():
    runs = plan_runs(RunConfig(model="softmax", max_epochs=1), Grid((0.01, 0.1), (0.0, 1.0), (0, 1)).checked())
    assert [len(group) for group in lock_step_groups(runs, 1)] == [4, 4]
    for group in lock_step_groups(runs, 1):
        assert len({run.config.seed for run in group}) == 1
    assert [len(group) for group in lock_step_groups(runs[::2], 2)] == [2, 2]  # one seed, two processes
    assert isinstance(runs[0], Experiment) and runs[0].name == "lr0.01_lambda0.0_seed0"


@pytest.mark.parametrize("option, value, message", [
    ("--lr", "", "--lr must be a non-empty list"),
    ("--lr", "0.1,abc", "expected comma-separated numbers, got 'abc'"),
    ("--l2", "0.1,,1", "expected comma-separated numbers, got ''"),
    ("--lr", "0.1,0.10", "--lr must not repeat a value; got 0.1"),
    ("--l2", "1e-3,0.001", "--l2 must not repeat a value"),
    ("--lr", "0.1,0", "--lr must hold numbers > 0; got 0.0"),
    ("--lr", "-0.1", "--lr must hold numbers > 0"),
    ("--l2", "0,-1", "--l2 must hold numbers >= 0; got -1.0"),
    ("--lr", "nan", "--lr must hold only finite numbers"),
    ("--seeds", "0,1.5", "expected comma-separated integers, got '1.5'"),
    ("--seeds", "0,0", "--seeds must not repeat a value"),
    ("--train-size", "60001", "--train-size must be between 1 and 60000 (the training set); got 60001"),
])
def test_bad_grid_is_one_line_exit_2_and_writes_nothing(tmp_path, mnist_dir, capsys, option, value, message):
    out = tmp_path / "out"
    # the = form: "-0.1" is a value, not an option
    code, _, err = run_cli(["sweep", "--out", out, "--data-dir", mnist_dir, f"{option}={value}"], capsys)
    assert code == 2
    err = err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_help_states_every_default():
    options = _options("sweep")
    assert {"--lr", "--l2", "--seeds", "--jobs", "--protocol", "--dataset", "--train-size",
            "--early-stopping-baseline", "--no-restore-best-weights"} <= set(options)
    train_options = _options("train")
    for option in ("--early-stopping-baseline", "--no-restore-best-weights"):  # the same words as train's
        assert options[option] == train_options[option]
    for option, text in options.items():
        if option != "--resume":
            assert re.search(r"\(default: [^)]+\)", text), f"{option} does not state its default: {text!r}"


def test_resume_refuses_what_is_not_an_interrupted_sweep(small_sweep, mnist_dir, tmp_path, capsys):
    assert run_sweep(small_sweep, mnist_dir, "--resume") == 2
    assert "complete sweep; there is nothing to resume" in capsys.readouterr().err
    assert run_sweep(tmp_path, mnist_dir, "--resume") == 2
    assert "not an interrupted sweep" in capsys.readouterr().err
    assert main(["evaluate", str(small_sweep)]) == 2
    assert "is a sweep, not a run" in capsys.readouterr().err
    assert run_sweep(tmp_path / "nothing", mnist_dir, "--resume") == 2  # one line, no 'resuming' line first
    assert capsys.readouterr().err.splitlines() == [
        f"linclass: error: {tmp_path / 'nothing'} does not exist; --resume continues the folder of an interrupted sweep."]
    assert main(["train", "--resume", "--out", str(small_sweep)]) == 2
    assert "is a sweep, not a run; resume it with 'linclass sweep --resume --out" in capsys.readouterr().err
    assert main(["reproduce", "--resume", "--out", str(small_sweep)]) == 2
    assert "is a complete sweep, not an interrupted reproduction; give another --out" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("jobs, signum", [("1", signal.SIGINT), ("2", signal.SIGTERM)])
def test_interrupted_sweep_resumes_bit_identically(tmp_path, mnist_dir, jobs, signum):
    options = ["--lr", "0.01,0.1", "--l2", "0,0.01", "--seeds", "0,1", "--epochs", "4"]
    reference = tmp_path / "reference"
    assert run_sweep(reference, mnist_dir, *options) == 0
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "linclass.cli", "sweep", *options, "--jobs", jobs,
                                "--data-dir", str(mnist_dir), "--out", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in process.stderr:  # wait until training is under way
        if "started" in line:
            break
    time.sleep(0.5)
    process.send_signal(signum)
    _, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    if process.returncode == 0:
        pytest.skip("the sweep finished before the signal arrived (machine much faster than expected)")
    assert process.returncode == 130, err
    hint = f"linclass sweep --resume --out {out} --jobs {jobs} --data-dir {mnist_dir}"
    assert hint in err and "Traceback" not in err
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "incomplete" and status["resume"] == hint
    assert not (out / "sweep.json").exists()

    assert main(["sweep", "--resume", "--jobs", jobs, "--no-progress", "--data-dir", str(mnist_dir),
                 "--out", str(out)]) == 0
    assert (out / "sweep.csv").read_bytes() == (reference / "sweep.csv").read_bytes()
    assert not list((out / "runs").glob(".checkpoint-*"))
    for run in (reference / "runs").iterdir():
        assert (out / "runs" / run.name / "history.json").read_bytes() == (run / "history.json").read_bytes()
        assert weights_of(out / "runs" / run.name).tobytes() == weights_of(run).tobytes()


@pytest.mark.parametrize("base, title", [
    ({"model": "softmax", "dataset": "mnist", "protocol": "assignment"}, "softmax regression, 10 classes (MNIST)"),
    ({"model": "logistic", "dataset": "mnist", "classes": [2, 3], "protocol": "assignment"},
     "logistic regression, 2 vs 3 (MNIST)"),
    ({"model": "logistic", "dataset": "fashion-mnist", "classes": [4, 2], "protocol": "holdout"},
     "logistic regression, Coat vs Pullover (Fashion-MNIST, holdout protocol)"),
])
def test_heat_map_title_says_what_was_trained(base, title):
    from linclass.sweeps.figure import _what_was_trained

    assert _what_was_trained(base) == title


def _cell(rate, strength, accuracy, **extra):
    return {"learning_rate": rate, "l2_strength": strength, "seeds": [0], "diverged": 0, "val_accuracy_mean": accuracy,
            "val_accuracy_spread": 0.0, "val_loss_mean": 0.4, **extra}


def test_heat_map_marks_a_run_that_made_no_progress():
    """lr 0.1, λ 1 on Fashion-MNIST kept step 0's weights (28.85 %): it was drawn as an ordinary dark cell."""
    from linclass.sweeps import results
    from linclass.sweeps.figure import accuracy_heatmap

    rows = [{"learning_rate": 0.1, "l2_strength": strength, "seed": 0, "diverged": None, "val_accuracy": accuracy,
             "val_loss": 0.4, "test_accuracy": None, "test_loss": None, "steps": 311, "stop_step": 310,
             "best_step": best, "name": f"r{strength}"} for strength, accuracy, best in ((0.0, 0.83, 7316), (1.0, 0.2885, 0))]
    found = results.cells(rows, Grid((0.1,), (0.0, 1.0), (0,)))
    assert [cell["no_progress"] for cell in found] == [0, 1]
    figure = accuracy_heatmap(found, (0.1,), (0.0, 1.0), found[0], model="softmax", seeds=[0])
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts == ["83.00%", "28.85%\nno progress"]
    assert "no progress: the validation loss never fell below its first value" in figure.axes[0].get_title()
    assert figure.axes[1].get_ylabel() == "validation accuracy (%)"  # one seed: no "mean"
