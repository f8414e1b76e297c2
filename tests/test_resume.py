"""Interrupt a real training run with SIGINT/SIGTERM in a subprocess, resume it, and compare bit for bit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from linclass.cli import main
from summary_support import comparable_summary

HANG_GUARD_SECONDS = 300  # a hung process fails the test; a slow one does not
TRAIN = ["train", "--model", "softmax", "--epochs", "8", "--no-progress"]


def start_training(out, mnist_dir, *extra):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "linclass.cli", *TRAIN, *extra, "--data-dir", str(mnist_dir),
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def interrupt_after(process, delay, signum):
    """Wait until training has started (the split line on stdout), then signal after `delay` seconds.

    Returns (exit code, stderr). The timeout only guards against a hang: how fast the process ends
    depends on how busy the machine is, so it is never asserted."""
    process.stdout.readline()
    time.sleep(delay)
    process.send_signal(signum)
    _, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    return process.returncode, err


def read_run(folder):
    with np.load(folder / "weights.npz") as archive:
        weights = archive["weights"]
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics.pop("wall_seconds")
    return weights, json.loads((folder / "history.json").read_text()), metrics


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("reference") / "run"
    assert main([*TRAIN, "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    return read_run(out)


@pytest.mark.parametrize("delay, signum", [(0.0, signal.SIGINT), (0.2, signal.SIGTERM), (0.5, signal.SIGINT)])
def test_interrupt_then_resume_is_bit_identical(tmp_path, mnist_dir, uninterrupted, delay, signum, capsys):
    out = tmp_path / "run"
    code, err = interrupt_after(start_training(out, mnist_dir), delay, signum)
    if code == 0:
        pytest.skip("the run finished before the signal arrived (machine much faster than expected)")
    assert code == 130, err
    assert "Traceback" not in err and f"linclass train --resume --out {out}" in err
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "incomplete" and status["completed_steps"] >= 1
    with np.load(out / "checkpoint.npz") as archive:  # one file: trainer state, weights, best weights
        assert {"weights", "order"} <= set(archive.files)
    assert main(["evaluate", str(out), "--data-dir", str(mnist_dir)]) == 2  # incomplete: refused
    assert main(["train", "--out", str(out), "--data-dir", str(mnist_dir), "--no-progress"]) == 2  # not over it
    assert "is an interrupted run; finish it with --resume (same --out)" in capsys.readouterr().err

    # Options the saved settings override are named, and change nothing.
    assert main(["train", "--resume", "--out", str(out), "--data-dir", str(mnist_dir), "--no-progress", "--lr",
                 "0.5", "--epochs=2"]) == 0
    assert "with its saved settings; ignored: --epochs, --lr" in capsys.readouterr().err
    weights, history, metrics = read_run(out)
    ref_weights, ref_history, ref_metrics = uninterrupted
    np.testing.assert_array_equal(weights, ref_weights)
    assert history == ref_history and metrics == ref_metrics


def test_interrupted_twice(tmp_path, mnist_dir, uninterrupted):
    out = tmp_path / "run"
    code, _ = interrupt_after(start_training(out, mnist_dir), 0.2, signal.SIGINT)
    assert code == 130
    resumed = subprocess.Popen([sys.executable, "-m", "linclass.cli", "train", "--resume", "--out", str(out),
                                "--data-dir", str(mnist_dir), "--no-progress"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    code, _ = interrupt_after(resumed, 0.3, signal.SIGINT)
    assert code in (0, 130)
    if code == 130:
        assert main(["train", "--resume", "--out", str(out), "--data-dir", str(mnist_dir), "--no-progress"]) == 0
    weights, history, metrics = read_run(out)
    np.testing.assert_array_equal(weights, uninterrupted[0])
    assert history == uninterrupted[1] and metrics == uninterrupted[2]


def test_resume_refuses_complete_and_foreign_folders(tmp_path, mnist_dir, capsys):
    assert main(["train", "--resume", "--out", str(tmp_path), "--data-dir", str(mnist_dir)]) == 2
    assert "not an interrupted linclass run" in capsys.readouterr().err
    assert main(["train", "--resume", "--out", str(tmp_path / "nothing"), "--data-dir", str(mnist_dir)]) == 2
    assert "nothing does not exist; --resume continues the folder of an interrupted" in capsys.readouterr().err
    out = tmp_path / "done"
    assert main([*TRAIN[:4], "1", "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    assert main(["train", "--resume", "--out", str(out), "--data-dir", str(mnist_dir)]) == 2
    assert "nothing to resume" in capsys.readouterr().err


REPRODUCE = ["reproduce", "--max-epochs-override", "6"]


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("reproduce-reference") / "out"
    assert main([*REPRODUCE, "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("jobs, signum, delay", [("1", signal.SIGINT, 0.3), ("2", signal.SIGTERM, 0.5)])
def test_reproduce_interrupted_mid_run_resumes_bit_identically(tmp_path, mnist_dir, reproduced, jobs, signum, delay):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "linclass.cli", *REPRODUCE, "--jobs", jobs, "--data-dir",
                                str(mnist_dir), "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in process.stderr:  # wait until the softmax runs are under way
        if "softmax" in line and "started" in line:
            break
    time.sleep(delay)
    process.send_signal(signum)
    _, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    assert process.returncode == 130, err
    assert f"linclass reproduce --resume --out {out}" in err and "Traceback" not in err
    assert json.loads((out / "status.json").read_text())["state"] == "incomplete"
    assert list((out / "runs").glob(".checkpoint-*"))  # the interrupted runs saved their state

    assert main(["reproduce", "--resume", "--jobs", jobs, "--no-progress", "--data-dir", str(mnist_dir),
                 "--out", str(out)]) == 0
    assert json.loads((out / "status.json").read_text())["state"] == "complete"
    assert comparable_summary(out) == comparable_summary(reproduced)
    assert not list((out / "runs").glob(".checkpoint-*"))
    for run in (reproduced / "runs").iterdir():
        assert (out / "runs" / run.name / "history.json").read_bytes() == (run / "history.json").read_bytes()
    assert_same_figures(out, reproduced)


def assert_same_figures(out, reference):
    """Every figure of the reference, byte for byte, and no other file."""
    names = sorted(p.name for p in (reference / "figures").iterdir())
    assert sorted(p.name for p in (out / "figures").iterdir()) == names and len(names) == 19
    for name in names:
        assert (out / "figures" / name).read_bytes() == (reference / "figures" / name).read_bytes(), name


def test_reproduce_interrupted_after_figures_were_drawn_resumes_with_every_figure(tmp_path, mnist_dir, reproduced,
                                                                                monkeypatch):
    """Ctrl-C right after task 3's figures are drawn (--jobs 1: after the softmax runs, before task 2's):
    the resume draws tasks 3 and 4's figures at once, then task 2's after its runs."""
    import linclass.report.summary as summary_module

    out, draw = tmp_path / "out", summary_module.section

    def draw_then_interrupt(task, *args, **kwargs):
        record = draw(task, *args, **kwargs)
        if task == "task3":
            os.kill(os.getpid(), signal.SIGINT)  # caught by reproduce: stop before the next task
        return record

    monkeypatch.setattr(summary_module, "section", draw_then_interrupt)
    assert main([*REPRODUCE, "--jobs", "1", "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out)]) == 130
    assert json.loads((out / "status.json").read_text())["state"] == "incomplete"
    assert (out / "figures" / "task3b_loss.png").is_file()  # drawn while task 2's runs were still to train
    assert not (out / "runs" / "task2_logistic_no_shuffle").exists()
    monkeypatch.undo()
    assert main(["reproduce", "--resume", "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    assert comparable_summary(out) == comparable_summary(reproduced)
    assert_same_figures(out, reproduced)


def test_reproduce_resume_refuses_a_complete_folder(reproduced, mnist_dir, capsys):
    assert main(["reproduce", "--resume", "--data-dir", str(mnist_dir), "--out", str(reproduced)]) == 2
    assert "nothing to resume" in capsys.readouterr().err
