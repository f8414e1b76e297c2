"""Folders on disk: one status.json schema (run, interrupted run, reproduction) with the linclass marker,
RunConfig's checks, and folders written before issue 8 (config.json with l2/epochs, status.json without
the marker) that still load, resume and reproduce."""

from __future__ import annotations

import json
import shutil
import threading
import zipfile

import numpy as np
import pytest

from linclass._io import read_status, write_status
from linclass.cli import main
from linclass.errors import LinclassError
from linclass.runs import RunConfig, load_checkpoint, load_run, make_split, run_state, save_checkpoint, train
from summary_support import comparable_summary
from training_support import StopAt

TRAIN = ["train", "--model", "logistic", "--epochs", "1", "--no-progress"]
OLD_NAMES = {"l2_strength": "l2", "max_epochs": "epochs"}


def write_old_format(folder) -> None:
    """Rewrite a folder as linclass wrote it before issue 8: old config names, status.json without marker
    (nor the SHA-256s of issue 10), a checkpoint as three files side by side."""
    for path in folder.rglob("checkpoint.npz"):
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        with np.load(path) as archive:
            np.savez(path.parent / "weights.npz", **{name: archive[name] for name in manifest["arrays"]})
        (path.parent / "histories.json").write_text(json.dumps(manifest["histories"]))
        (path.parent / "checkpoint.json").write_text(json.dumps(manifest["meta"]))
        path.unlink()
    for path in folder.rglob("*.json"):
        data = json.loads(path.read_text())
        if path.name == "status.json":
            data = {k: v for k, v in data.items() if k not in ("written_by", "version", "kind", "files")}
        elif path.name == "config.json":
            data = {OLD_NAMES.get(k, k): v for k, v in data.items()}
        elif path.name == "metrics.json" and "config" in data:
            data["config"] = {OLD_NAMES.get(k, k): v for k, v in data["config"].items()}
        else:
            continue
        path.write_text(json.dumps(data, indent=1))


# ---------------------------------------------------------------- status.json


def test_status_schema_of_a_run_and_a_reproduction(tmp_path):
    write_status(tmp_path, "run", "complete", steps=12)
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["written_by"] == "linclass" and status["kind"] == "run" and status["state"] == "complete"
    assert status["steps"] == 12 and "version" in status
    assert read_status(tmp_path) == status and run_state(tmp_path) == "complete"
    write_status(tmp_path, "reproduction", "incomplete", settings={"seed": 0}, resume="linclass reproduce ...")
    assert read_status(tmp_path)["kind"] == "reproduction" and run_state(tmp_path) is None
    with pytest.raises(ValueError, match="status kind"):
        write_status(tmp_path, "notes", "complete")


@pytest.mark.parametrize("old, kind", [({"state": "complete", "steps": 3}, "run"),
                                       ({"state": "incomplete", "completed_steps": 3, "resume": "x"}, "run"),
                                       ({"state": "complete", "settings": {"seed": 0}}, "reproduction")])
def test_status_without_the_marker_still_reads(tmp_path, old, kind):
    (tmp_path / "status.json").write_text(json.dumps(old))
    status = read_status(tmp_path)
    assert status["kind"] == kind and status["state"] == old["state"] and "written_by" not in status


@pytest.mark.parametrize("text", ["", "[1, 2]", '{"state": "odd"}', '{"written_by": "other", "state": "complete"}',
                                  '{"written_by": "linclass", "kind": "notes", "state": "complete"}'])
def test_status_that_is_not_ours_reads_as_none(tmp_path, text):
    (tmp_path / "status.json").write_text(text)
    assert read_status(tmp_path) is None and run_state(tmp_path) is None
    assert read_status(tmp_path / "absent") is None


# ---------------------------------------------------------------- RunConfig


@pytest.mark.parametrize("values, message", [
    ({"batch_size": 0}, "batch_size must be an integer >= 1; got 0"),
    ({"l2_strength": True}, "l2_strength must be a finite number >= 0; got True"),
    ({"l2_strength": float("nan")}, "l2_strength"),
    ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0"),
    ({"max_epochs": 2.5}, "max_epochs must be an integer >= 1"),
    ({"patience": 0}, "patience must be an integer >= 1"),
    ({"shuffle": "yes"}, "shuffle must be True or False"),
    ({"penalize_bias": 1}, "penalize_bias must be True or False"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"dtype": "float16"}, "dtype must be one of float64, float32"),
    ({"model": "tree"}, "model must be one of logistic, softmax"),
    ({"train_size": 0}, "train_size must be between 1 and 60000"),
    ({"model": "logistic", "classes": (3, 3)}, "classes must differ"),
    ({"classes": (3, 2)}, "classes chooses the two classes of the logistic model"),
    ({"dataset": "cifar"}, "dataset must be one of mnist, fashion-mnist"),
    ({"protocol": "test"}, "protocol must be one of assignment, holdout"),
    ({"train_size": 60001}, "train_size must be between 1 and 60000"),
    ({"protocol": "holdout", "train_size": 50001}, "train_size must be between 1 and 50000 under the holdout"),
])
def test_run_config_checks_every_field(values, message):
    with pytest.raises(LinclassError, match=message):
        RunConfig(**values).resolved()


def test_run_config_reads_the_old_names_and_writes_the_new():
    old = {"model": "softmax", "l2": 0.1, "epochs": 3, "seed": 2}
    config = RunConfig.from_json(old)
    assert config == RunConfig(l2_strength=0.1, max_epochs=3, seed=2)
    written = config.resolved().to_json()
    assert written["l2_strength"] == 0.1 and written["max_epochs"] == 3 and not {"l2", "epochs"} & set(written)
    with pytest.raises(LinclassError, match="old and its new name"):
        RunConfig.from_json({"l2": 0.1, "l2_strength": 0.1})
    with pytest.raises(LinclassError, match="unknown keys"):
        RunConfig.from_json({"colour": "red"})


# ---------------------------------------------------------------- folders written before issue 8


def test_old_run_folder_still_evaluates(tmp_path, mnist_dir, capsys):
    out = tmp_path / "run"
    assert main([*TRAIN, "--l2", "0.01", "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    config, model, _ = load_run(out)
    write_old_format(out)
    assert "l2" in json.loads((out / "config.json").read_text())
    old_config, old_model, _ = load_run(out)
    assert old_config == config and old_config.l2_strength == 0.01 and old_config.max_epochs == 1
    np.testing.assert_array_equal(old_model.weights_, model.weights_)
    capsys.readouterr()
    assert main(["evaluate", str(out), "--data-dir", str(mnist_dir)]) == 0
    assert "validation accuracy" in capsys.readouterr().out


def test_old_checkpoint_still_resumes_bit_identically(tmp_path, mnist, mnist_dir):
    config = RunConfig(model="logistic", max_epochs=1, l2_strength=0.01).resolved()
    split = make_split(config, mnist)
    event = threading.Event()
    interrupted = train(config, split, [StopAt(5, event)], stop_event=event)
    assert interrupted.interrupted_
    out = tmp_path / "run"
    out.mkdir()
    save_checkpoint(out, config, interrupted.checkpoint_, "linclass train --resume")
    assert read_status(out)["kind"] == "run" and read_status(out)["completed_steps"] == 6
    write_old_format(out)
    assert load_checkpoint(out)[0] == config
    assert main(["train", "--resume", "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    assert read_status(out)["written_by"] == "linclass" and read_status(out)["state"] == "complete"
    uninterrupted = train(config, split)
    with np.load(out / "weights.npz") as archive:
        np.testing.assert_array_equal(archive["weights"], uninterrupted.weights_)


@pytest.mark.slow  # a (reduced) reproduction
def test_old_reproduction_still_resumes(tmp_path, mnist_dir):
    options = ["--only", "task2", "--max-epochs-override", "1", "--no-progress", "--data-dir", str(mnist_dir)]
    fresh, old = tmp_path / "fresh", tmp_path / "old"
    assert main(["reproduce", "--out", str(fresh), *options]) == 0
    shutil.copytree(fresh, old)
    # As an interrupted reproduction from before issue 8: one run finished, no summary yet.
    shutil.rmtree(old / "runs" / "task2_logistic_shuffle")
    for name in ("summary.json", "report.md", "report.html"):
        (old / name).unlink()
    status = json.loads((old / "status.json").read_text())
    (old / "status.json").write_text(json.dumps({"state": "incomplete", "settings": status["settings"]}))
    write_old_format(old)
    assert main(["reproduce", "--resume", "--out", str(old), "--no-progress", "--data-dir", str(mnist_dir)]) == 0
    assert read_status(old) == {**read_status(fresh)}
    summaries = [comparable_summary(folder) for folder in (fresh, old)]
    assert summaries[0] == summaries[1]  # the finished run's old config names are written under the new ones
    assert summaries[1]["task2"]["no_shuffle"]["config"]["max_epochs"] == 1
