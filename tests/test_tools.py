"""The developer tools in tools/: they run, and say what they measured (their numbers are in the README)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from linclass.cli import main

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def run_tool(*argv: str, env_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = None if env_dir is None else {**os.environ, "LINCLASS_DATA_DIR": str(env_dir)}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=600, env=env)


def test_where_time_goes_blocks_and_train(mnist_dir):
    blocks = run_tool(str(TOOLS / "where_time_goes.py"), "blocks", "--lanes", "1,2")
    assert blocks.returncode == 0, blocks.stderr
    assert re.search(r"conversion from bytes: \d+\.\d\d", blocks.stdout)
    assert re.search(r"plain cast of the pixels \(no scaling, so not the features\): \d+\.\d\d", blocks.stdout)
    assert len(re.findall(r"model\(s\), +\d+ columns: product \d+\.\d\d, loss and hits \d+\.\d\d", blocks.stdout)) == 2
    train = run_tool(str(TOOLS / "where_time_goes.py"), "train", "--model", "logistic", "--epochs", "2",
                     env_dir=mnist_dir)
    assert train.returncode == 0, train.stderr
    wall, validations, steps = map(float, re.search(
        r"wall ([\d.]+) s: validations ([\d.]+) s, steps ([\d.]+) s", train.stdout).groups())
    assert 0 < validations < wall and 0 < steps < wall
    bad = run_tool(str(TOOLS / "where_time_goes.py"), "blocks", "--nonsense")
    assert bad.returncode == 2 and "unrecognized arguments: --nonsense" in bad.stderr


def test_compare_reproductions_reports_a_changed_number(mnist_dir, tmp_path):
    """A copy of a reproduction compares identical; a number changed by one ulp in summary.json, or in a
    run's history, is reported (exit 1)."""
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["reproduce", "--only", "task2", "--seeds", "1", "--no-progress", "--data-dir", str(mnist_dir),
                 "--out", str(first)]) == 0
    compare = [str(TOOLS / "compare_reproductions.py"), str(first), str(second)]
    shutil.copytree(first, second)
    same = run_tool(*compare)
    assert same.returncode == 0 and "identical" in same.stdout, same.stdout + same.stderr

    summary_path = second / "summary.json"
    summary = json.loads(summary_path.read_text())
    norm = summary["task2"]["no_shuffle"]["weight_norm"]
    summary["task2"]["no_shuffle"]["weight_norm"] = math.nextafter(norm, math.inf)
    summary_path.write_text(json.dumps(summary))
    changed = run_tool(*compare)
    assert changed.returncode == 1 and "/task2/no_shuffle/weight_norm" in changed.stdout, changed.stdout

    shutil.rmtree(second)
    shutil.copytree(first, second)
    history_path = second / "runs" / "task2_logistic_no_shuffle" / "history.json"
    history_path.write_text(history_path.read_text().replace("0.", "1.", 1))
    changed = run_tool(*compare)
    assert changed.returncode == 1 and "task2_logistic_no_shuffle/history.json differs" in changed.stdout
