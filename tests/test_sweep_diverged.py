"""linclass sweep with diverging runs: a diverged run leaves its lock-step group and the others end bit for
bit as alone; its row, cell, run folder and heat map say so; every cell diverged is one line; resume.
Also the fidelity options sweep shares with train (--early-stopping-baseline, --no-restore-best-weights)."""

from __future__ import annotations

import contextlib
import csv
import json
import threading
import zipfile

import numpy as np
import pytest

import linclass.sweeps.command as sweep_command
from linclass.cli import main
from linclass.runs import RunConfig, make_model, make_split, make_trainer
from linclass.sweeps import run_name
from linclass.training import TrainingDiverged

from errors_support import assert_one_line_error, run_cli

# λ 20.5 at learning rate 0.05 scales the weights by |1 - 2·0.05·20.5| = 1.05 per step: it diverges at step 79,
# after three validations; at 0.5 it diverges within a few steps. The λ 0 runs train both epochs, and
# 0.5 with λ 0.1 stops early at once: lanes leave the group for both reasons, mid-run.
MIXED = ["--lr", "0.05,0.5", "--l2", "0,0.1,20.5", "--seeds", "3", "--epochs", "2", "--patience", "3"]
SETTINGS = [(rate, strength) for rate in (0.05, 0.5) for strength in (0.0, 0.1, 20.5)]


def run_sweep(out, mnist_dir, *options) -> int:
    return main(["sweep", "--out", str(out), "--data-dir", str(mnist_dir), "--no-progress", *options])


def weights_of(folder):
    with np.load(folder / "weights.npz") as archive:
        return archive["weights"]


def strict_json(path):
    """The JSON in path, refusing NaN and Infinity (which are not JSON)."""
    def refuse(name):
        raise ValueError(f"{path} holds {name}")
    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def mixed_sweep(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("sweep") / "out"
    assert run_sweep(out, mnist_dir, *MIXED) == 0
    return out


def config_of(rate: float, strength: float) -> RunConfig:
    return RunConfig(model="softmax", learning_rate=rate, l2_strength=strength, seed=3, max_epochs=2,
                     patience=3).resolved()


def test_a_diverged_run_leaves_its_group_and_the_others_end_as_alone(mixed_sweep, mnist, mnist_dir, tmp_path):
    """Every run of the mixed group ends exactly where it ends alone: `linclass train` for the runs that
    finish, and for the diverged ones the TrainingDiverged a run alone raises, at the same step, with the
    same history up to it."""
    split = make_split(config_of(0.05, 0.0), mnist)
    diverged = 0
    for rate, strength in SETTINGS:
        folder = mixed_sweep / "runs" / run_name(rate, strength, 3)
        metrics = strict_json(folder / "metrics.json")
        assert len(metrics["lock_step_group"]) == 6  # all six started together
        if strength != 20.5:
            alone = tmp_path / f"{rate}-{strength}"
            assert main(["train", "--lr", str(rate), "--l2", str(strength), "--seed", "3", "--epochs", "2",
                         "--patience", "3", "--no-progress", "--data-dir", str(mnist_dir), "--out", str(alone)]) == 0
            for name in ("history.json", "config.json"):
                assert (folder / name).read_bytes() == (alone / name).read_bytes(), (folder, name)
            assert weights_of(folder).tobytes() == weights_of(alone).tobytes()
            alone_metrics = strict_json(alone / "metrics.json")
            for key in ("best", "at_stop", "final_weights", "early_stop", "steps", "weight_norm"):
                assert metrics[key] == alone_metrics[key], key
            continue
        diverged += 1
        error, history_alone = fit_until_it_diverges(config_of(rate, strength), split)
        assert metrics["diverged"]["step"] == error.step == metrics["steps"]
        assert metrics["diverged"]["message"] == str(error)  # the words `linclass train` prints
        assert "Lower λ" in str(error)
        assert not (folder / "weights.npz").exists()
        history = strict_json(folder / "history.json")
        assert list(history["train_loss_per_step"]) == [str(step) for step in range(error.step)]
        assert history == history_alone.to_json()  # as alone, up to the step before
    assert diverged == 2
    steps = {rate: strict_json(mixed_sweep / "runs" / run_name(rate, 20.5, 3) / "metrics.json")["steps"]
             for rate in (0.05, 0.5)}
    assert steps[0.5] < 10 < 31 * 2 < steps[0.05]  # one before the first validation, one after a few


def fit_until_it_diverges(config: RunConfig, split):
    """(the TrainingDiverged, the history) of a model trained alone, as `linclass train` does, until it raises."""
    model = make_model(config)
    with pytest.raises(TrainingDiverged) as raised:
        model.fit(split.X_train, split.y_train, split.X_val, split.y_val, trainer=make_trainer(config))
    return raised.value, model.history_


def test_the_diverged_runs_rows_cells_and_best(mixed_sweep):
    summary = strict_json(mixed_sweep / "sweep.json")  # valid JSON: no NaN anywhere
    with open(mixed_sweep / "sweep.csv", newline="") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert "diverged" in summary["columns"] and list(next(iter(rows.values()))) == summary["columns"]
    metric_columns = ("stop_step", "stop_epoch", "best_step", "val_loss", "val_accuracy", "train_loss",
                      "train_accuracy", "test_loss", "test_accuracy", "weight_norm")
    for record in summary["runs"]:
        row = rows[record["name"]]
        folder = mixed_sweep / record["run_dir"]
        if record["l2_strength"] == 20.5:
            step = strict_json(folder / "metrics.json")["diverged"]["step"]
            assert record["diverged"] == record["steps"] == step and row["diverged"] == str(step)
            assert all(record[column] is None and row[column] == "" for column in metric_columns)
        else:
            assert record["diverged"] is None and row["diverged"] == ""
            assert record["val_accuracy"] == strict_json(folder / "metrics.json")["best"]["val_accuracy"]
    listed = {(d["learning_rate"], d["l2_strength"], d["seed"], d["step"]) for d in summary["diverged"]}
    assert listed == {(r["learning_rate"], r["l2_strength"], 3, r["diverged"]) for r in summary["runs"]
                      if r["diverged"] is not None}
    assert all(d["message"].startswith(f"training diverged at step {d['step']} ") for d in summary["diverged"])
    for cell in summary["cells"]:
        if cell["l2_strength"] == 20.5:
            assert cell["diverged"] == 1 and cell["val_accuracy_mean"] is None and cell["val_loss_mean"] is None
            assert cell["val_accuracy_spread"] is None
        else:
            assert cell["diverged"] == 0 and cell["val_accuracy_mean"] is not None
    best = summary["best"]
    assert best["diverged"] == 0 and best["val_accuracy_mean"] == max(
        cell["val_accuracy_mean"] for cell in summary["cells"] if not cell["diverged"])
    assert summary["n_train_images"] == 20000 and summary["n_val_images"] == 10000
    for suffix in ("png", "svg"):
        assert (mixed_sweep / "figures" / f"val_accuracy.{suffix}").stat().st_size > 1000
    svg = (mixed_sweep / "figures" / "val_accuracy.svg").read_text()
    assert svg.count("diverged") >= 2  # the two cells say so (and the title explains the hatching)


def test_the_printed_lines_name_the_diverged_runs_and_skip_them_for_the_best(mnist_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_sweep(out, mnist_dir, "--lr", "0.1,100", "--l2", "0", "--epochs", "1") == 0
    printed = capsys.readouterr().out
    assert "diverged: 1 of 2 runs (lr 100, λ 0, seed 0 at step " in printed
    assert "best: lr 0.1, λ 0:" in printed


def test_every_cell_diverged_is_one_line_exit_2_and_writes_nothing(mnist_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run_cli(["sweep", "--out", out, "--data-dir", mnist_dir, "--no-progress", "--lr", "100,300",
                            "--l2", "0,1", "--epochs", "1"], capsys)
    assert_one_line_error(code, err, "every (learning rate, λ) cell of the sweep diverged", "(4 of 4 runs)",
                          "lr 100, λ 0, seed 0", "Lower the learning rate (now 100)",
                          f"Nothing was written to {out}.")
    assert list(tmp_path.iterdir()) == []


def test_a_cell_with_one_diverged_seed_is_diverged_and_all_such_cells_is_the_error(mnist_dir, tmp_path, capsys):
    """λ 20.5 at learning rate 0.05 diverges on both seeds here; the grid's only cell has no mean."""
    out = tmp_path / "out"
    code, _, err = run_cli(["sweep", "--out", out, "--data-dir", mnist_dir, "--no-progress", "--lr", "0.05",
                            "--l2", "20.5", "--seeds", "0,1", "--epochs", "1"], capsys)
    assert_one_line_error(code, err, "(2 of 2 runs)", "Lower λ (l2_strength, --l2; now 20.5)")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["evaluate"], ["export", "--html", "page.html"], ["predict", "image.npy"],
                                     ["train", "--resume", "--out"]])
def test_a_diverged_run_folder_is_refused_in_one_line(mixed_sweep, tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "image.npy", np.zeros((28, 28)))
    folder = mixed_sweep / "runs" / run_name(0.5, 20.5, 3)
    argv = command + [folder] if command[0] == "train" else command[:1] + [folder] + command[1:]
    code, _, err = run_cli(argv, capsys)
    line = assert_one_line_error(code, err, f"{folder} is a run whose training diverged at step ",
                                 "train it again with a lower learning rate (or λ)")
    assert "Traceback" not in err and ("nothing to resume" in line) == (command[0] == "train")
    assert not (tmp_path / "page.html").exists()


class StopAfter(threading.Event):
    """An Event that reads as set from its calls-th is_set() on: a Ctrl-C at a known step, without signals."""

    def __init__(self, calls: int):
        super().__init__()
        self.calls = calls

    def is_set(self) -> bool:
        self.calls -= 1
        return self.calls < 0 or super().is_set()


def test_resume_with_diverged_runs_ends_as_uninterrupted(mnist_dir, tmp_path, monkeypatch, capsys):
    """Seed 3's group finishes (diverged run folders among its runs); seed 4's is stopped after two of its
    runs diverged and one stopped early, so its saved state holds them. Resuming ends bit for bit as a
    sweep never stopped, metrics.json included (the early-stopped run's final weights too)."""
    options = ["--lr", "0.05,0.5", "--l2", "0,0.1,20.5", "--seeds", "3,4", "--epochs", "2", "--patience", "3"]
    reference = tmp_path / "reference"
    assert run_sweep(reference, mnist_dir, *options) == 0
    out = tmp_path / "out"
    monkeypatch.setattr(sweep_command, "stop_on_signals", lambda: contextlib.nullcontext(StopAfter(312 + 4 + 150)))
    assert run_sweep(out, mnist_dir, *options) == 130
    monkeypatch.undo()
    assert strict_json(out / "status.json")["state"] == "incomplete" and not (out / "sweep.json").exists()
    assert strict_json(out / "runs" / run_name(0.5, 20.5, 3) / "status.json")["state"] == "diverged"
    assert not (out / "runs" / run_name(0.5, 20.5, 4)).exists()
    [saved] = (out / "runs").glob(".checkpoint-*")
    manifest = json.loads(zipfile.ZipFile(saved).read("manifest.json"))
    lanes = dict(zip(manifest["members"], manifest["meta"]["lanes"]))
    assert lanes[run_name(0.5, 20.5, 4)]["diverged"]["step"] < lanes[run_name(0.05, 20.5, 4)]["diverged"]["step"]
    assert lanes[run_name(0.5, 0.1, 4)]["stopped_early"] is not None and "diverged" not in lanes[run_name(0.05, 0.0, 4)]
    capsys.readouterr()

    assert run_sweep(out, mnist_dir, "--resume") == 0
    assert (out / "sweep.csv").read_bytes() == (reference / "sweep.csv").read_bytes()
    assert not list((out / "runs").glob(".checkpoint-*"))
    for run in (reference / "runs").iterdir():
        for name in ("history.json", "config.json"):
            assert (out / "runs" / run.name / name).read_bytes() == (run / name).read_bytes(), (run.name, name)
        metrics, expected = (strict_json(folder / "metrics.json") for folder in (out / "runs" / run.name, run))
        assert {**metrics, "wall_seconds": 0} == {**expected, "wall_seconds": 0}, run.name
        if (run / "weights.npz").exists():
            assert weights_of(out / "runs" / run.name).tobytes() == weights_of(run).tobytes()
    summary = strict_json(out / "sweep.json")
    assert len(summary["diverged"]) == 4 and summary["best"]["l2_strength"] != 20.5


def test_the_fidelity_options_reach_every_run(mnist_dir, tmp_path):
    """--early-stopping-baseline and --no-restore-best-weights are in sweep.json's base settings and every
    run's config, and a run ends as `linclass train` with the same options; the rows quote the kept
    (final) weights."""
    out = tmp_path / "out"
    flags = ["--early-stopping-baseline", "0.4", "--no-restore-best-weights", "--patience", "2"]
    assert run_sweep(out, mnist_dir, "--lr", "0.1", "--l2", "0,0.01", "--epochs", "1", *flags) == 0
    summary = strict_json(out / "sweep.json")
    base = summary["settings"]["base"]
    assert base["early_stopping_baseline"] == 0.4 and base["restore_best_weights"] is False
    alone = tmp_path / "alone"
    assert main(["train", "--lr", "0.1", "--l2", "0.01", "--epochs", "1", *flags, "--no-progress",
                 "--data-dir", str(mnist_dir), "--out", str(alone)]) == 0
    for record in summary["runs"]:
        folder = out / record["run_dir"]
        config = strict_json(folder / "config.json")
        assert config["early_stopping_baseline"] == 0.4 and config["restore_best_weights"] is False
        metrics = strict_json(folder / "metrics.json")
        assert record["val_accuracy"] == metrics["final_weights"]["val_accuracy"]  # the kept weights
        if record["l2_strength"] == 0.01:
            for name in ("history.json", "config.json", "metrics.json"):
                if name == "metrics.json":
                    ours, theirs = strict_json(folder / name), strict_json(alone / name)
                    assert {k: v for k, v in ours.items() if k in theirs and k != "wall_seconds"} == {
                        k: v for k, v in theirs.items() if k != "wall_seconds"}
                else:
                    assert (folder / name).read_bytes() == (alone / name).read_bytes(), name
            assert weights_of(folder).tobytes() == weights_of(alone).tobytes()


def test_a_baseline_never_beaten_keeps_the_final_weights(mnist_dir, tmp_path):
    """Restoring needs a best: with a baseline no validation beats, the rows quote the final weights."""
    out = tmp_path / "out"
    assert run_sweep(out, mnist_dir, "--lr", "0.1", "--l2", "0", "--epochs", "1",
                     "--early-stopping-baseline", "0.001", "--patience", "2") == 0
    [record] = strict_json(out / "sweep.json")["runs"]
    metrics = strict_json(out / record["run_dir"] / "metrics.json")
    assert metrics["best"] is None and record["best_step"] is None
    assert record["val_accuracy"] == metrics["final_weights"]["val_accuracy"]
    assert record["stop_step"] == 31  # no improvement at steps 0 and 31 (patience 2)


def test_a_baseline_without_early_stopping_is_one_line(mnist_dir, tmp_path, capsys):
    code, _, err = run_cli(["sweep", "--out", tmp_path / "out", "--data-dir", mnist_dir, "--no-early-stopping",
                            "--early-stopping-baseline", "1"], capsys)
    assert_one_line_error(code, err, "--early-stopping-baseline needs early stopping")
    assert list(tmp_path.iterdir()) == []
