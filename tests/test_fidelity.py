"""Issue 11: the original code's early-stopping rules on demand, and the comparison with its report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from linclass.cli import main
from linclass.errors import LinclassError
from linclass.report.fidelity import ORIGINAL_REPORT, simulate_stop
from linclass.report.plan import DEFAULT_SEEDS, plan_experiments
from linclass.runs import RunConfig
from linclass.training import History


def history(losses, every: int = 31) -> History:
    return History({}, {(i + 1) * every - 1: {"val_loss": loss} for i, loss in enumerate(losses)})


def test_simulated_stop_follows_keras_baseline():
    above = [1.5, 1.4, 1.3, 1.2, 1.25, 1.2, 1.1, 1.05, 1.02, 1.01, 1.0, 0.9]
    # Nothing below 1.0 for ten validations: the original rule stops at the 10th, step 309 = epoch 1 here.
    assert simulate_stop(history(above), 10, 1.0, 156) == {"step": 309, "epoch": 1}
    assert simulate_stop(history(above), 10, None, 156) is None  # ours keeps improving
    assert simulate_stop(history([0.5, 0.4] + [0.45] * 10), 10, 1.0, 156) == {"step": 371, "epoch": 2}


def test_config_fields_are_checked_and_old_configs_load():
    old = RunConfig(model="softmax").to_json()
    del old["early_stopping_baseline"], old["restore_best_weights"]
    config = RunConfig.from_json(old).resolved()
    assert config.early_stopping_baseline is None and config.restore_best_weights is True
    for bad in (float("nan"), float("inf"), -0.5, "1"):
        with pytest.raises(LinclassError, match="early_stopping_baseline"):
            RunConfig(early_stopping_baseline=bad).resolved()
    with pytest.raises(LinclassError, match="restore_best_weights"):
        RunConfig(restore_best_weights="no").resolved()
    with pytest.raises(LinclassError, match="needs early stopping"):
        RunConfig(patience=None, early_stopping_baseline=1.0).resolved()


@pytest.mark.parametrize("argv", [
    ["train", "--early-stopping-baseline", "nan"], ["train", "--early-stopping-baseline", "-1"],
    ["train", "--early-stopping-baseline", "inf"], ["train", "--early-stopping-baseline", "1", "--no-early-stopping"],
    ["reproduce", "--rules", "keras"], ["reproduce", "--seeds", "0"]])
def test_bad_input_is_one_line_exit_2(argv, tmp_path, capsys):
    try:
        code = main([*argv, "--out", str(tmp_path / "out")])
    except SystemExit as exit_info:  # argparse refuses the value itself
        code = exit_info.code
    assert code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert not (tmp_path / "out").exists()


def test_plan_under_the_original_rules_with_seed_spread():
    plan = plan_experiments(("task2", "task4"), rules="original", seeds=3)
    assert all(e.config.early_stopping_baseline == 1.0 and not e.config.restore_best_weights for e in plan)
    extra = [e for e in plan if e.spread_of]
    assert {e.spread_of for e in extra} == {"task2_logistic_shuffle", "task3_softmax_lambda_0"} | {
        f"task4_softmax_lambda_{l:g}" for l in (1, 0.1, 0.01, 0.001)}
    assert sorted({e.config.seed for e in extra}) == [1, 2] and len(extra) == 2 * 6
    default = plan_experiments(("task2", "task3", "task4"))
    assert sum(e.spread_of == "task2_logistic_shuffle" for e in default) == DEFAULT_SEEDS["logistic"] - 1
    assert not any(e.spread_of and e.config.model == "softmax" for e in default)
    assert {name for _, name, _, _ in ORIGINAL_REPORT} <= {e.name for e in default}


@pytest.mark.slow
def test_lambda_1_stops_at_step_279_under_the_original_rules(tmp_path, mnist_dir, capsys):
    out = tmp_path / "lambda1"
    assert main(["train", "--model", "softmax", "--l2", "1", "--no-shuffle", "--early-stopping-baseline", "1.0",
                 "--no-restore-best-weights", "--data-dir", str(mnist_dir), "--out", str(out), "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["early_stop"] == {"step": 279, "epoch": 1} and metrics["steps"] == 280
    assert metrics["best"] is None  # no validation loss ever fell below 1.0
    config = json.loads((out / "config.json").read_text())
    assert config["early_stopping_baseline"] == 1.0 and config["restore_best_weights"] is False
    assert "final weights (kept)" in capsys.readouterr().out
    with np.load(out / "weights.npz") as archive:
        assert np.any(archive["weights"] != 0)
